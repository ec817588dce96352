"""Facilities (事業所), the people who work in them, and their roles as rows.

Role facts are the source of truth; the guardian grants in FacilityUserObjectPermission follow
from them and change only in services.py, in the same transaction.
"""

import datetime as dt
import secrets
import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.signing import salted_hmac
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from mcnet.text import normalize_email, normalize_kana

from .search import search_key

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


def _photo_path(instance, filename: str) -> str:
    # A fresh name per upload: a cached old photo is never served for a new one. Never public.
    return f"photos/{instance.pk or 'new'}/{uuid.uuid4().hex}.jpg"


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
    # 留意事項 4: a face photo (and nothing else), re-encoded without metadata; streamed by
    # facilities:photo to signed-in network users only, never under a public URL.
    photo = models.FileField(_("顔写真"), upload_to=_photo_path, blank=True)
    # The directory searches these: name and kana with spaces removed, katakana full-width,
    # lower case (search.search_key), so ひらがな, カタカナ and ｶﾀｶﾅ all find the same person.
    search_name = models.CharField(max_length=100, blank=True, editable=False)
    search_kana = models.CharField(max_length=100, blank=True, editable=False)
    is_staff = models.BooleanField(_("管理画面を使える"), default=False)
    is_active = models.BooleanField(_("ログインできる"), default=True)
    date_joined = models.DateTimeField(_("登録日時"), default=timezone.now)
    # Raised by every ban, restriction, deactivation and role change: the sessions signed in
    # before it stop at their next request (get_session_auth_hash), and lifting the measure
    # later does not bring them back.
    session_epoch = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")
        ordering = ["kana", "email"]
        # Prefix search on 200,000 users (the pattern opclass lets LIKE 'x%' use the index in
        # any collation; other databases ignore it). Substring search has trigram indexes,
        # created by migration 0002 on PostgreSQL only.
        indexes = [
            models.Index(
                fields=["search_kana"], name="user_search_kana", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["search_name"], name="user_search_name", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["occupation", "search_kana"], name="user_occupation_kana"),
            # The directory lists people in kana order, 50 at a time.
            models.Index(fields=["search_kana", "id"], name="user_directory_order"),
            # …and those whose name starts with what was typed, in kana order, from this index
            # alone (an index-only scan, no row read): 「佐藤」 matches thousands.
            models.Index(
                fields=["search_name"],
                name="user_directory_name",
                opclasses=["varchar_pattern_ops"],
                include=["search_kana", "id"],
                condition=Q(is_active=True, state="active"),
            ),
            # The few deactivated accounts, found without reading every account: the center's
            # dashboard counts staff as "not one of these" (mcnet.dashboard.selectors).
            models.Index(fields=["id"], condition=Q(is_active=False), name="user_inactive"),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        self.kana = normalize_kana(self.kana)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        self.kana = normalize_kana(self.kana)
        self.search_name = search_key(self.name)[:100]
        self.search_kana = search_key(self.kana)[:100]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            fields = set(update_fields)
            if fields & {"name", "kana"}:
                fields |= {"search_name", "search_kana", "kana"}
            kwargs["update_fields"] = fields
        super().save(*args, **kwargs)

    def get_occupation_display(self) -> str:
        """The 職種's label, looked up directly: Django's own display hashes every choice's
        lazy label, a translation lookup each — 23 ms for the directory's 50 people against
        0.5 (make bench). A value outside the choices shows as it is, as Django's does."""
        try:
            return str(Occupation(self.occupation).label)
        except ValueError:
            return self.occupation

    @property
    def photo_url(self) -> str:
        """Where the face photo is streamed from (facilities:photo), or "" without one.

        The file name changes with each upload, so the URL does too (no stale caches)."""
        if not self.photo:
            return ""
        version = self.photo.name.rsplit("/", 1)[-1].split(".")[0][:8]
        return reverse("facilities:photo", kwargs={"user_id": self.pk}) + f"?v={version}"

    @property
    def can_use_network(self) -> bool:
        """Signed-in and active: may search the directory and see photos."""
        return self.is_active and self.state == self.State.ACTIVE

    def _get_session_auth_hash(self, secret=None):
        # Django keeps a session only while this hash is unchanged; epoch 0 gives Django's own
        # hash, so the sessions open when this was introduced stay valid.
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "facilities.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @cached_property
    def is_center_staff(self) -> bool:
        # The signed-in user is loaded with this answer (facilities.selectors.signed_in_user),
        # so the menus of every page don't ask for it again.
        in_group = self.__dict__.get("in_center_staff_group")
        if in_group is None:
            in_group = self.groups.filter(name=CENTER_STAFF_GROUP).exists()
        return self.is_active and in_group

    @cached_property
    def role_rows(self) -> tuple[tuple[int, str, bool], ...]:
        """(facility id, role, whether the facility is active and the user works there now)
        of each of the user's role rows, read in one query once per request: the menus and
        the MFA check of every page ask it."""
        works_there = FacilityMembership.objects.filter(
            user_id=models.OuterRef("user_id"),
            facility_id=models.OuterRef("facility_id"),
            is_active=True,
        )
        return tuple(
            (facility_id, role, state == Facility.State.ACTIVE and member)
            for facility_id, role, state, member in self.facility_roles.annotate(
                works_there=models.Exists(works_there)
            ).values_list("facility_id", "role", "facility__state", "works_there")
        )

    @cached_property
    def roles_held(self) -> frozenset[tuple[int, str]]:
        """(facility id, role) of each of the user's role rows."""
        return frozenset((facility_id, role) for facility_id, role, _current in self.role_rows)

    def holds_role(self, *roles: str) -> bool:
        return any(role in roles for _facility_id, role in self.roles_held)

    def holds_current_role(self, *roles: str) -> bool:
        """A role at an active facility where the user works now (the filing menus)."""
        return any(role in roles and current for _f, role, current in self.role_rows)

    def forget_roles(self) -> None:
        """The role rows read for this user object are stale (a service changed them)."""
        for name in ("role_rows", "roles_held"):
            self.__dict__.pop(name, None)


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
    search_name = models.CharField(max_length=200, blank=True, editable=False, db_index=True)

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

    def save(self, *args, **kwargs):
        self.search_name = search_key(self.name)[:200]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}{self.address_line}"


# What a facility's staff or the facility manager may edit of their facility on the portal;
# the state (申込中/利用中/…) is the center's decision (第4条) and changes in the admin.
FACILITY_EDITABLE_FIELDS = (
    "name",
    "kind",
    "postal_code",
    "prefecture",
    "city",
    "town",
    "address_line",
    "phone",
    "fax",
    "manager_name",
    "manager_email",
)


class FacilityMembership(models.Model):
    """A user works at a facility. One person with two facilities has two rows, one account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(_("在籍中"), default=True)
    started_at = models.DateTimeField(_("登録日時"), default=timezone.now)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    end_reason = models.CharField(_("終了の理由"), max_length=300, blank=True)

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


class FacilityStateChange(models.Model):
    """Each change of a facility's state (申込中 → 利用中 → 利用停止 / 利用中止), with its date."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="state_changes", verbose_name=_("事業所")
    )
    state = models.CharField(_("状態"), max_length=16, choices=Facility.State.choices)
    changed_at = models.DateTimeField(_("変更日時"), default=timezone.now)
    changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("備考"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("事業所の状態の変更")
        verbose_name_plural = _("事業所の状態の変更")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["facility", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.facility}: {self.get_state_display()} ({self.changed_at:%Y-%m-%d})"


def _invitation_key() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """An e-mail invitation to join a facility (第6条(4): user registration by the MCS admin).

    The link carries `key` and an HMAC of it under the SECRET_KEY: the database alone cannot
    forge a working link. Re-sending makes a new key, so an older link stops working.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("招待中")
        ACCEPTED = "accepted", _("登録済み")
        REVOKED = "revoked", _("取り消し")

    TOKEN_SALT = "facilities.invitation"  # noqa: S105 — an HMAC salt, not a secret

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("事業所")
    )
    email = models.EmailField(_("メールアドレス（MCS ID）"))
    name = models.CharField(_("氏名"), max_length=100, blank=True)
    kana = models.CharField(_("ふりがな"), max_length=100, blank=True)
    occupation = models.CharField(
        _("職種"), max_length=32, choices=Occupation.choices, default=Occupation.OTHER
    )
    is_mcs_admin = models.BooleanField(_("MCS管理者として登録"), default=False)
    key = models.CharField(max_length=64, unique=True, default=_invitation_key, editable=False)
    state = models.CharField(
        _("状態"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("招待した人"),
    )
    created_at = models.DateTimeField(_("招待日時"), default=timezone.now)
    sent_at = models.DateTimeField(_("送信日時"), default=timezone.now)
    send_count = models.PositiveIntegerField(_("送信回数"), default=1)
    expires_at = models.DateTimeField(_("有効期限"))
    emailed_at = models.DateTimeField(_("メール送信済み"), null=True, blank=True)
    # A sender's claim on the mail while it sends it (mcnet/outbox.py).
    mail_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("登録日時"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations_accepted"
    )
    revoked_at = models.DateTimeField(_("取り消し日時"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("招待")
        verbose_name_plural = _("招待")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "email"],
                condition=Q(state="pending"),
                name="invitation_one_pending_per_address",
            )
        ]
        indexes = [models.Index(fields=["facility", "state"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.facility}"

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        self.kana = normalize_kana(self.kana)
        super().save(*args, **kwargs)

    @property
    def is_expired(self) -> bool:
        return self.state == self.State.PENDING and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.state == self.State.PENDING and not self.is_expired

    @property
    def token(self) -> str:
        return f"{self.key}.{self._signature(self.key)}"

    @classmethod
    def _signature(cls, key: str) -> str:
        return salted_hmac(cls.TOKEN_SALT, key, algorithm="sha256").hexdigest()[:32]

    @classmethod
    def key_from_token(cls, token: str) -> str | None:
        """The key of a genuine token, or None for anything forged or mangled."""
        key, _sep, signature = (token or "").rpartition(".")
        if not key or not constant_time_compare(signature, cls._signature(key)):
            return None
        return key

    def get_accept_url(self) -> str:
        return reverse("facilities:invitation_accept", kwargs={"token": self.token})


class UserRestriction(models.Model):
    """留意事項 2: the MCS administrator restricts or bans a user who misused MCS, with a reason.

    A row stays as the record; reinstating sets `lifted_*`. The user's state follows the
    restrictions still in force (services._apply_user_state).
    """

    class Level(models.TextChoices):
        RESTRICTED = "restricted", _("利用制限")
        BANNED = "banned", _("利用禁止")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="restrictions", verbose_name=_("利用者")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="restrictions", verbose_name=_("事業所")
    )
    level = models.CharField(_("措置"), max_length=16, choices=Level.choices)
    reason = models.TextField(_("理由"))
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("措置した人"),
    )
    created_at = models.DateTimeField(_("措置日時"), default=timezone.now)
    lifted_at = models.DateTimeField(_("解除日時"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("解除した人"),
    )
    lift_reason = models.TextField(_("解除の理由"), blank=True)

    class Meta:
        verbose_name = _("利用制限・禁止")
        verbose_name_plural = _("利用制限・禁止")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "lifted_at"])]
        constraints = [
            # One measure in force per user and facility; a new one supersedes the old.
            models.UniqueConstraint(
                fields=["user", "facility"],
                condition=Q(lifted_at__isnull=True),
                name="restriction_one_in_force_per_facility",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.user} @ {self.facility}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


class StaffPledge(models.Model):
    """第7条: the staff member's confidentiality pledge (従事者誓約書) with the facility.

    Confirmed by the staff member on the portal, or a signed paper recorded by the facility
    manager, or waived because a pledge already exists (第7条 なお書き, with that pledge's date
    when known). `rule_version` is the version of items (1)–(5) it covers (第15条): a new
    version in force makes it out of date until confirmed again.
    """

    class Method(models.TextChoices):
        PORTAL = "portal", _("ポータルで確認")
        PAPER = "paper", _("署名した誓約書")
        WAIVED = "waived", _("省略（既存の誓約書あり）")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="pledges", verbose_name=_("職員")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="pledges", verbose_name=_("事業所")
    )
    signed_on = models.DateField(_("誓約日"), null=True, blank=True)
    waived = models.BooleanField(_("省略（既存の誓約書あり）"), default=False)
    method = models.CharField(
        _("誓約の方法"), max_length=16, choices=Method.choices, default=Method.PAPER
    )
    rule_version = models.ForeignKey(
        "rulebook.RuleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("誓約した内容の版"),
    )
    note = models.CharField(_("備考"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("従事者誓約書")
        verbose_name_plural = _("従事者誓約書")
        constraints = [
            models.UniqueConstraint(fields=["user", "facility"], name="pledge_once_per_facility"),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=False) | Q(waived=True),
                name="pledge_signed_or_waived",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility}"


def fiscal_year_start(day: dt.date) -> dt.date:
    """The Japanese fiscal year (年度) runs April to March; education is counted per 年度."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


class EducationSession(models.Model):
    """第7条: the facility manager educates the MCS administrator and users periodically."""

    facility = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        related_name="education_sessions",
        verbose_name=_("事業所"),
    )
    held_on = models.DateField(_("実施日"))
    topic = models.CharField(_("内容"), max_length=200)
    notes = models.TextField(_("備考"), blank=True)
    attendees = models.ManyToManyField(
        User, related_name="education_sessions", blank=True, verbose_name=_("出席者")
    )
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("記録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("教育の実施")
        verbose_name_plural = _("教育の実施")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["facility", "held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.topic}"
