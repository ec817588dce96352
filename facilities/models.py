"""Facilities (事業所), the people who work in them, and their roles as rows.

Role facts are the source of truth; the guardian grants in FacilityUserObjectPermission follow
from them and change only in services.py, in the same transaction.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from mcnet.text import normalize_email, normalize_kana

CENTER_STAFF_GROUP = "center_staff"


class Occupation(models.TextChoices):
    """職種, as the forms (別紙3, 別紙4) ask for it."""

    DOCTOR = "doctor", _("医師")
    DENTIST = "dentist", _("歯科医師")
    PHARMACIST = "pharmacist", _("薬剤師")
    NURSE = "nurse", _("看護師")
    ASSOCIATE_NURSE = "associate_nurse", _("准看護師")
    PUBLIC_HEALTH_NURSE = "public_health_nurse", _("保健師")
    PHYSICAL_THERAPIST = "physical_therapist", _("理学療法士")
    OCCUPATIONAL_THERAPIST = "occupational_therapist", _("作業療法士")
    SPEECH_THERAPIST = "speech_therapist", _("言語聴覚士")
    DIETITIAN = "dietitian", _("管理栄養士")
    DENTAL_HYGIENIST = "dental_hygienist", _("歯科衛生士")
    CARE_MANAGER = "care_manager", _("介護支援専門員")
    CARE_WORKER = "care_worker", _("介護福祉士")
    HOME_HELPER = "home_helper", _("訪問介護員")
    SOCIAL_WORKER = "social_worker", _("社会福祉士")
    MEDICAL_SOCIAL_WORKER = "medical_social_worker", _("医療ソーシャルワーカー")
    CLERK = "clerk", _("事務職員")
    CENTER_STAFF = "center_staff", _("センター職員")
    OTHER = "other", _("その他")


class Gender(models.TextChoices):
    FEMALE = "female", _("女")
    MALE = "male", _("男")
    OTHER = "other", _("その他")
    UNSPECIFIED = "unspecified", _("回答しない")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def create_user(self, email, password=None, **fields):
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member of the network. The e-mail is the login and the MCS ID.

    別紙1/別紙3: one person, one address — unique after NFKC and lower-casing.
    """

    class State(models.TextChoices):
        ACTIVE = "active", _("利用中")
        RESTRICTED = "restricted", _("利用制限中")
        BANNED = "banned", _("利用禁止")
        LEFT = "left", _("利用中止（退職等）")

    email = models.EmailField(_("メールアドレス（MCS ID）"), unique=True)
    name = models.CharField(_("氏名"), max_length=100, blank=True)
    kana = models.CharField(_("ふりがな"), max_length=100, blank=True, db_index=True)
    gender = models.CharField(
        _("性別"), max_length=16, choices=Gender.choices, default=Gender.UNSPECIFIED
    )
    occupation = models.CharField(
        _("職種"), max_length=32, choices=Occupation.choices, default=Occupation.OTHER
    )
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    state = models.CharField(_("状態"), max_length=16, choices=State.choices, default=State.ACTIVE)
    had_mcs_account = models.BooleanField(_("MCS登録済み（別紙3 *2）"), default=False)
    is_staff = models.BooleanField(_("管理画面を使える"), default=False)
    is_active = models.BooleanField(_("ログインできる"), default=True)
    date_joined = models.DateTimeField(_("登録日時"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")
        ordering = ["kana", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        self.kana = normalize_kana(self.kana)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        self.kana = normalize_kana(self.kana)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @cached_property
    def is_center_staff(self) -> bool:
        return self.is_active and self.groups.filter(name=CENTER_STAFF_GROUP).exists()


class Facility(models.Model):
    """A member facility (連携元事業所)."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("病院")
        CLINIC = "clinic", _("診療所（クリニック）")
        DENTAL_CLINIC = "dental_clinic", _("歯科診療所")
        PHARMACY = "pharmacy", _("薬局")
        VISITING_NURSING = "visiting_nursing", _("訪問看護ステーション")
        HOME_CARE_SUPPORT = "home_care_support", _("居宅介護支援事業所")
        COMMUNITY_SUPPORT = "community_support", _("地域包括支援センター")
        CARE_SERVICE = "care_service", _("介護サービス事業所")
        CARE_FACILITY = "care_facility", _("介護施設")
        MUNICIPALITY = "municipality", _("市町村")
        OTHER = "other", _("その他")

    class State(models.TextChoices):
        APPLYING = "applying", _("申込中")
        ACTIVE = "active", _("利用中")
        SUSPENDED = "suspended", _("利用停止")
        WITHDRAWN = "withdrawn", _("利用中止")

    name = models.CharField(_("事業所名"), max_length=200, db_index=True)
    kind = models.CharField(_("施設の種類"), max_length=32, choices=Kind.choices)
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True)
    prefecture = models.CharField(_("都道府県"), max_length=10, blank=True)
    city = models.CharField(_("市区町村"), max_length=50, blank=True)
    town = models.CharField(_("町域"), max_length=100, blank=True)
    address_line = models.CharField(_("番地・建物名"), max_length=200, blank=True)
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    fax = models.CharField(_("FAX番号"), max_length=20, blank=True)
    manager_name = models.CharField(_("事業所管理者氏名"), max_length=100, blank=True)
    manager_email = models.EmailField(_("事業所管理者メールアドレス"), blank=True)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.APPLYING, db_index=True
    )
    state_changed_at = models.DateTimeField(_("状態の変更日時"), default=timezone.now)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("事業所")
        verbose_name_plural = _("事業所")
        ordering = ["name"]
        permissions = [
            ("manage_staff", _("職員・ID・利用制限を管理できる（MCS管理者, 第6条）")),
            ("manage_devices", _("IT機器・持ち出しを管理できる（MCS管理者, 第6条(2)）")),
            ("archive_groups", _("患者グループをアーカイブできる（留意事項2）")),
            ("sign_for_facility", _("事業所として届出・誓約に署名できる（事業所管理者）")),
            ("manage_education", _("誓約書・教育を管理できる（第7条）")),
            ("register_patients", _("患者を登録しグループを作成できる（第8条）")),
        ]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}{self.address_line}"


class FacilityMembership(models.Model):
    """A user works at a facility. One person with two facilities has two rows, one account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(_("在籍中"), default=True)
    started_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "facility"], name="membership_once_per_facility"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility}"


class FacilityRole(models.Model):
    """A role a user holds at one facility. Roles are never global, except center staff."""

    class Role(models.TextChoices):
        FACILITY_MANAGER = "facility_manager", _("事業所管理者")
        MCS_ADMIN = "mcs_admin", _("MCS管理者")
        GROUP_MANAGER = "group_manager", _("患者グループ管理者")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="facility_roles")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("役割"), max_length=32, choices=Role.choices)
    appointed_at = models.DateTimeField(_("任命日時"), default=timezone.now)
    appointed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("役割")
        verbose_name_plural = _("役割")
        constraints = [
            models.UniqueConstraint(fields=["user", "facility", "role"], name="role_once_per_user")
        ]
        indexes = [models.Index(fields=["facility", "role"])]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user} @ {self.facility}"


# Direct foreign-key object permissions (guardian docs, "Performance tuning"): faster than the
# generic tables and no orphaned rows that could leak access when a primary key is reused.
class FacilityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Facility, on_delete=models.CASCADE)


class FacilityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Facility, on_delete=models.CASCADE)
