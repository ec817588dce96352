"""Every write to facilities, users and roles: one transaction, one audit event each.

Services trust that the caller was authorized by a selector (views) or is the center (admin),
but they re-check what the data itself must satisfy: the person is staff of the facility, the
invitation is still open, a reason is given.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mcnet.audit import AuditAction, audit_record
from mcnet.jobs import enqueue_on_commit
from mcnet.models import NetworkSettings
from mcnet.notifications import notify
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force
from mcnet.rulebook.services import rule_version_publish
from mcnet.services import audit_update, model_update, model_update_audited, object_grants_set
from mcnet.text import normalize_email, normalize_kana, normalize_phone

from .models import (
    CENTER_STAFF_GROUP,
    FACILITY_EDITABLE_FIELDS,
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    FacilityStateChange,
    FacilityUserObjectPermission,
    Invitation,
    Occupation,
    StaffPledge,
    User,
    UserRestriction,
)
from .permissions import (
    can_appoint,
    can_appoint_mcs_admin,
    center_staff_group,
    permissions_for_roles,
)
from .selectors import center_staff_users
from .signals import (
    ADMIN_APPOINTED,
    ADMIN_RELIEVED,
    STAFF_ADDED,
    STAFF_REMOVED,
    staff_changed,
    staff_left,
    staff_left_network,
)
from .tasks import send_invitation_email

Role = FacilityRole.Role

# --- facilities -------------------------------------------------------------------------------


@transaction.atomic
def facility_create(*, actor, note: str = "", **fields) -> Facility:
    facility = Facility.objects.create(**fields)
    FacilityStateChange.objects.create(
        facility=facility,
        state=facility.state,
        changed_at=facility.state_changed_at,
        changed_by=_person(actor),
        note=note or _("登録"),
    )
    audit_record(
        actor=actor,
        action=AuditAction.FACILITY_CREATE,
        target=facility,
        facility_id=facility.pk,
        changes={k: str(v) for k, v in fields.items()},
    )
    return facility


@transaction.atomic
def facility_update(*, actor, facility: Facility, **fields) -> Facility:
    """Change the facility's name, kind, address and contacts (not its state)."""
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    before = {name: getattr(facility, name) for name in FACILITY_EDITABLE_FIELDS}
    facility, changed = model_update_audited(
        actor=actor,
        action=AuditAction.FACILITY_UPDATE,
        instance=facility,
        fields=FACILITY_EDITABLE_FIELDS,
        data=fields,
    )
    if changed and not getattr(actor, "is_center_staff", False):
        # 第4条(2): the center keeps the application's data; it learns of every change.
        notify(
            recipients=center_staff_users(),
            kind="facilities.facility_updated",
            title=_("%(facility)sの事業所情報が変更されました") % {"facility": facility.name},
            body="\n".join(
                f"{Facility._meta.get_field(name).verbose_name}: {before[name]} → "
                f"{getattr(facility, name)}"
                for name in changed
            ),
            url=reverse("admin:facilities_facility_change", args=[facility.pk]),
            reason=_("センターは事業所の登録内容を管理するため（第4条）"),
        )
    return facility


@transaction.atomic
def facility_set_state(*, actor, facility: Facility, state: str, note: str = "") -> Facility:
    """申込中 → 利用中 → 利用停止 / 利用中止: each change is kept with its date and who made it."""
    if state not in Facility.State.values:
        raise ValidationError({"state": _("状態の値が正しくありません。")})
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    if facility.state == state:
        return facility
    old = facility.state
    now = timezone.now()
    facility.state = state
    facility.state_changed_at = now
    facility.save(update_fields=["state", "state_changed_at"])
    FacilityStateChange.objects.create(
        facility=facility, state=state, changed_at=now, changed_by=_person(actor), note=note
    )
    audit_record(
        actor=actor,
        action=AuditAction.FACILITY_STATE,
        target=facility,
        changes={"state": [old, state], "note": note},
    )
    return facility


# --- people and memberships -------------------------------------------------------------------


@transaction.atomic
def user_create(*, actor, email: str, password: str | None = None, **fields) -> User:
    user = User.objects.create_user(email=email, password=password, **fields)
    audit_record(
        actor=actor,
        action=AuditAction.USER_CREATE,
        target=user,
        changes={"email": user.email, **{k: str(v) for k, v in fields.items()}},
    )
    return user


# What the center edits of a person in the admin: the profile, never the state, admin rights,
# groups, permissions or password (see facilities/admin.py).
USER_CENTER_EDITABLE_FIELDS = (
    "email",
    "name",
    "kana",
    "gender",
    "occupation",
    "phone",
    "had_mcs_account",
)
# 留意事項 4: what each person keeps up to date themselves (the photo apart).
USER_PROFILE_FIELDS = ("name", "kana", "occupation", "phone")


@transaction.atomic
def user_update(*, actor, user: User, **fields) -> User:
    """The center corrects a person's profile (別紙4: name, kana, occupation, e-mail)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user, _changed = model_update_audited(
        actor=actor,
        action=AuditAction.USER_UPDATE,
        instance=user,
        fields=USER_CENTER_EDITABLE_FIELDS,
        data=fields,
    )
    return user


@transaction.atomic
def password_reset_link_send(*, actor, user: User, request) -> None:
    """Mail the person allauth's password reset link. Nobody sets another person's password
    (art. 11 (1)(2): a password is never shared); `request` builds the link's address."""
    from allauth.account.forms import ResetPasswordForm
    from allauth.core.context import request_context

    if not (user.is_active and user.state != User.State.BANNED):
        raise ValidationError(
            _("ログインできない利用者（利用禁止・利用中止）にはリンクを送れません。"),
            code="inactive",
        )
    audit_record(actor=actor, action=AuditAction.USER_PASSWORD_RESET_LINK, target=user)

    def send():
        form = ResetPasswordForm(data={"email": user.email})
        with request_context(request):  # allauth builds the link from the request
            if form.is_valid():
                form.save(request)

    transaction.on_commit(send)


@transaction.atomic
def membership_add(
    *,
    actor,
    user: User,
    facility: Facility,
    invitation: Invitation | None = None,
    via_notice: bool = False,
) -> FacilityMembership:
    """`user` works at `facility` (again). `invitation`: the one accepted; `via_notice`: the
    center carries out a 別紙4 (staff_changed: otherwise the change becomes a 別紙4 line)."""
    if holds_center_position(user):
        # A facility's staff can be invited into its patients' groups; the center never is.
        raise ValidationError(_("センター職員は事業所の職員として登録できません（別紙5）。"))
    membership, created = FacilityMembership.objects.get_or_create(user=user, facility=facility)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.ended_at = None
        membership.end_reason = ""
        membership.started_at = timezone.now()
        membership.save(update_fields=["is_active", "ended_at", "end_reason", "started_at"])
        created = True
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.MEMBERSHIP_ADD,
            target=membership,
            facility_id=facility.pk,
            changes={"user": user.email},
        )
        _announce_change(
            actor=actor,
            user=user,
            facility=facility,
            change=STAFF_ADDED,
            invitation=invitation,
            via_notice=via_notice,
        )
    return membership


def _announce_change(
    *, actor, user, facility, change, invitation=None, via_notice=False, reason="", roles=()
) -> None:
    # 第4条2: every change of a facility's staff reaches the center's record (別紙4).
    staff_changed.send(
        roles=list(roles),
        sender=FacilityMembership,
        facility=facility,
        user=user,
        change=change,
        actor=actor,
        invitation=invitation,
        via_notice=via_notice,
        reason=reason,
    )


@transaction.atomic
def profile_update(
    *,
    actor,
    user: User,
    name: str,
    kana: str,
    occupation: str,
    phone: str = "",
    photo=None,
    remove_photo: bool = False,
) -> User:
    """留意事項 4: each user keeps their own profile (name, kana, occupation, phone, face photo).

    `photo` must already be re-encoded by mcnet.uploads.photo_upload (no EXIF, no GPS)."""
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied
    if occupation not in Occupation.values:
        raise ValidationError({"occupation": _("職種を選んでください。")})
    if not (name or "").strip():
        raise ValidationError({"name": _("氏名を入力してください。")})
    user = User.objects.select_for_update().get(pk=user.pk)
    user, changed = model_update(
        instance=user,
        fields=USER_PROFILE_FIELDS,
        data={
            "name": name.strip(),
            "kana": normalize_kana(kana),
            "occupation": occupation,
            "phone": normalize_phone(phone),
        },
    )
    old_photo = user.photo.name if user.photo else ""
    if photo is not None or (remove_photo and old_photo):
        if photo is not None:
            user.photo.save(photo.name, photo, save=False)
        else:
            user.photo = ""
        user.save(update_fields=["photo"])
        changed.append("photo")
    if not changed:
        return user
    if old_photo and "photo" in changed:
        storage = user.photo.storage
        transaction.on_commit(lambda: storage.delete(old_photo))
    audit_update(actor=actor, action=AuditAction.USER_PROFILE_UPDATE, target=user, changed=changed)
    return user


# --- roles --------------------------------------------------------------------------------------


class SecondMcsAdministrator(ValidationError):
    """別紙3 *1: one MCS administrator per facility "in principle"; a second needs a yes."""


def sessions_end(*, user: User) -> None:
    """Every session `user` opened before now stops at its next request (User.session_epoch).

    Sessions live in the cache and the database (cached_db); rather than hunting them there,
    the hash each one carries stops matching, and Django flushes it from both when it is used.
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.session_epoch = User.objects.values_list("session_epoch", flat=True).get(pk=user.pk)


def holds_center_position(user: User) -> bool:
    """Center staff (and superusers) administer the network and hold no facility role: the
    center never sees a patient's information (別紙5 (2))."""
    return user.is_superuser or user.groups.filter(name=CENTER_STAFF_GROUP).exists()


def _check_appointment(*, actor, user: User, facility: Facility, role: str) -> None:
    """Nobody grants themselves a role: an appointment is made by someone else entitled to it."""
    if holds_center_position(user):
        raise ValidationError(
            _(
                "センター職員は事業所の役割（事業所管理者・MCS管理者・患者グループ管理者）を"
                "持てません。センターは患者の情報を見ない立場です（別紙5）。"
            ),
            code="center_staff",
        )
    if actor is None:  # the system itself: the demo, the command line
        return
    if actor.pk == user.pk:
        raise ValidationError(
            _(
                "ご自身を任命することはできません。任命は事業所管理者など、"
                "任命できる別の方が行います（第5条）。"
            ),
            code="self_appointment",
        )
    if not can_appoint(actor, facility, role):
        raise PermissionDenied(_("この役割を任命する権限がありません（第5条）。"))


@transaction.atomic
def role_appoint(
    *,
    actor,
    user: User,
    facility: Facility,
    role: str,
    confirm_second_mcs_admin: bool = True,
    invitation: Invitation | None = None,
    via_notice: bool = False,
) -> FacilityRole:
    """Give `user` a role at `facility` and the object permissions that come with it.

    The web page passes `confirm_second_mcs_admin=False` until the person appointing has
    confirmed that the facility gets a second MCS administrator."""
    if role not in Role.values:
        raise ValidationError({"role": _("役割を選んでください。")})
    if (
        role == Role.MCS_ADMIN
        and not confirm_second_mcs_admin
        and FacilityRole.objects.filter(facility=facility, role=Role.MCS_ADMIN)
        .exclude(user=user)
        .exists()
    ):
        raise SecondMcsAdministrator(
            _("この事業所には既にMCS管理者がいます。2人目として任命するには確認してください。"),
            code="second_mcs_admin",
        )
    _check_appointment(actor=actor, user=user, facility=facility, role=role)
    membership_add(
        actor=actor, user=user, facility=facility, invitation=invitation, via_notice=via_notice
    )
    role_row, created = FacilityRole.objects.get_or_create(
        user=user, facility=facility, role=role, defaults={"appointed_by": _person(actor)}
    )
    if created:
        _sync_facility_grants(user=user, facility=facility)
        sessions_end(user=user)  # the new role (and its MFA rule) applies from a new login
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_APPOINT,
            target=role_row,
            facility_id=facility.pk,
            changes={"user": user.email, "role": role},
        )
        if actor is not None:
            _tell_appointment(actor=actor, role_row=role_row)
        if role == Role.MCS_ADMIN:  # 別紙4's 管理者 column
            _announce_change(
                actor=actor,
                user=user,
                facility=facility,
                change=ADMIN_APPOINTED,
                invitation=invitation,
                via_notice=via_notice,
            )
    return role_row


def _tell_appointment(*, actor, role_row: FacilityRole) -> None:
    """The person appointed and the facility's managers learn of every appointment (第5条)."""
    user, facility = role_row.user, role_row.facility
    names = {"facility": facility.name, "role": role_row.get_role_display()}
    notify(
        recipients=[user],
        kind="facilities.role_appointed",
        title=_("%(facility)sの%(role)sに任命されました") % names,
        url=reverse("home"),
        reason=_("あなたの役割が変わったため"),
    )
    managers = User.objects.filter(
        facility_roles__facility=facility,
        facility_roles__role=Role.FACILITY_MANAGER,
        is_active=True,
    ).exclude(pk__in=[user.pk, getattr(actor, "pk", None)])
    if managers:
        notify(
            recipients=list(managers),
            kind="facilities.role_appointed_by_other",
            title=_("%(name)s さんが%(facility)sの%(role)sに任命されました")
            % {**names, "name": user.name or user.email},
            body=_("任命した人: %(actor)s") % {"actor": actor.name or actor.email},
            url=reverse("facilities:roles", args=[facility.pk]),
            reason=_("あなたがこの事業所の事業所管理者であるため（第5条）"),
        )


@transaction.atomic
def role_relieve(
    *,
    actor,
    user: User,
    facility: Facility,
    role: str,
    via_notice: bool = False,
    leaving: bool = False,
) -> None:
    """`leaving`: part of staff_deactivate, whose 別紙4 line (削除) says it all."""
    deleted, _count = FacilityRole.objects.filter(user=user, facility=facility, role=role).delete()
    if deleted:
        _sync_facility_grants(user=user, facility=facility)
        if getattr(actor, "pk", None) != user.pk:  # not the person who just asked for it
            sessions_end(user=user)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_RELIEVE,
            object_type="facilities.facilityrole",
            object_id=f"{facility.pk}:{user.pk}:{role}",
            facility_id=facility.pk,
            changes={"user": user.email, "role": role},
        )
        if role == Role.MCS_ADMIN and not leaving:
            _announce_change(
                actor=actor,
                user=user,
                facility=facility,
                change=ADMIN_RELIEVED,
                via_notice=via_notice,
            )


@transaction.atomic
def center_staff_add(*, actor, user: User) -> None:
    """Center staff use the admin (is_staff) and are members of the center's Django group.

    They hold no facility role (別紙5 (2): the center never sees a patient's information)."""
    if (
        FacilityRole.objects.filter(user=user).exists()
        or FacilityMembership.objects.filter(user=user, is_active=True).exists()
    ):
        raise ValidationError(
            _(
                "事業所に在籍中の方や事業所の役割を持つ方はセンター職員にできません。"
                "先に事業所での在籍を終了してください。"
            ),
            code="holds_facility_role",
        )
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("ご自身をセンター職員にすることはできません。"), code="self")
    user.groups.add(center_staff_group())
    sessions_end(user=user)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(actor=actor, action=AuditAction.USER_CENTER_STAFF_ADD, target=user)


def _sync_facility_grants(*, user: User, facility: Facility) -> None:
    """Make the user's guardian grants on `facility` equal to what their role rows give."""
    user.forget_roles()
    wanted = permissions_for_roles(
        FacilityRole.objects.filter(user=user, facility=facility).values_list("role", flat=True)
    )
    object_grants_set(user=user, obj=facility, wanted=wanted, grants=FacilityUserObjectPermission)


@transaction.atomic
def center_staff_remove(*, actor, user: User) -> None:
    """The person no longer works for the center: out of its group, no admin."""
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("ご自身をセンター職員から外すことはできません。"), code="self")
    user.groups.remove(center_staff_group())
    if user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    sessions_end(user=user)
    audit_record(actor=actor, action=AuditAction.USER_CENTER_STAFF_REMOVE, target=user)


# --- invitations (第6条(4): the MCS administrator registers the facility's users) ---------------


@transaction.atomic
def staff_invite(
    *,
    actor,
    facility: Facility,
    email: str,
    name: str = "",
    kana: str = "",
    occupation: str = "",
    is_mcs_admin: bool = False,
) -> Invitation:
    """Invite a person by e-mail to join `facility`; they set their password and profile.

    An address that already has an account gets a second membership on the same account."""
    email = normalize_email(email)
    if not email:
        raise ValidationError({"email": _("メールアドレスを入力してください。")})
    occupation = occupation or Occupation.OTHER
    if occupation not in Occupation.values:
        raise ValidationError({"occupation": _("職種を選んでください。")})
    if is_mcs_admin and not can_appoint_mcs_admin(actor, facility):
        raise ValidationError(
            {"is_mcs_admin": _("MCS管理者の任命は事業所管理者が行います（第5条）。")}
        )
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if holds_center_position(existing):
            raise ValidationError(
                {"email": _("センター職員のアカウントは事業所の職員として招待できません。")}
            )
        if existing.state == User.State.BANNED:
            raise ValidationError(
                {"email": _("このメールアドレスの利用者は利用禁止中のため招待できません。")}
            )
        if FacilityMembership.objects.filter(
            user=existing, facility=facility, is_active=True
        ).exists():
            raise ValidationError({"email": _("この方は既にこの事業所の職員です。")})
    if Invitation.objects.filter(
        facility=facility, email=email, state=Invitation.State.PENDING
    ).exists():
        raise ValidationError(
            {"email": _("このメールアドレスには招待中です。再送または取り消しをしてください。")}
        )
    now = timezone.now()
    invitation = Invitation.objects.create(
        facility=facility,
        email=email,
        name=(name or "").strip() or (existing.name if existing else ""),
        kana=kana or (existing.kana if existing else ""),
        occupation=occupation,
        is_mcs_admin=is_mcs_admin,
        created_by=_person(actor),
        created_at=now,
        sent_at=now,
        expires_at=_invitation_expiry(now),
    )
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_CREATE,
        target=invitation,
        changes={
            "email": email,
            "is_mcs_admin": is_mcs_admin,
            "existing_account": existing is not None,
        },
    )
    _queue_invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_resend(*, actor, invitation: Invitation) -> Invitation:
    """Send again with a new link (the old one stops working) and a new expiry date."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(_("登録済みまたは取り消し済みの招待は再送できません。"))
    now = timezone.now()
    invitation.key = Invitation._meta.get_field("key").default()
    invitation.sent_at = now
    invitation.send_count += 1
    invitation.expires_at = _invitation_expiry(now)
    invitation.emailed_at = None
    invitation.save(update_fields=["key", "sent_at", "send_count", "expires_at", "emailed_at"])
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_RESEND,
        target=invitation,
        changes={"email": invitation.email, "send_count": invitation.send_count},
    )
    _queue_invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(_("登録済みまたは取り消し済みの招待は取り消せません。"))
    invitation.state = Invitation.State.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = _person(actor)
    invitation.save(update_fields=["state", "revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_REVOKE,
        target=invitation,
        changes={"email": invitation.email},
    )
    return invitation


@transaction.atomic
def staff_invitation_accept(
    *,
    invitation: Invitation,
    user: User | None = None,
    password: str | None = None,
    name: str = "",
    kana: str = "",
    occupation: str = "",
    phone: str = "",
) -> User:
    """The invitee accepts: a new account is made with their password and profile, or the
    signed-in owner of an existing account adds this facility (one account, two memberships).

    A person whose account ended (state "left") may set a new password and comes back."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError(_("この招待は有効期限が切れたか、取り消されました。"))
    existing = User.objects.select_for_update().filter(email=invitation.email).first()
    if user is not None:  # the owner of an existing account, signed in
        if existing is None or existing.pk != user.pk:
            raise PermissionDenied
        if not user.can_use_network:
            raise ValidationError(_("利用制限中のため招待を受けられません。"))
        account = existing
    elif existing is not None and existing.state != User.State.LEFT:
        raise ValidationError(
            _("このメールアドレスのアカウントは既にあります。ログインしてから受けてください。")
        )
    else:
        if not password:
            raise ValidationError({"password1": _("パスワードを入力してください。")})
        profile = {
            "name": (name or invitation.name).strip(),
            "kana": kana or invitation.kana,
            "occupation": occupation or invitation.occupation,
            "phone": normalize_phone(phone),
        }
        if existing is None:
            account = user_create(actor=None, email=invitation.email, password=password, **profile)
        else:  # came back after leaving: the same account, a new password
            account = existing
            for key, value in profile.items():
                setattr(account, key, value)
            account.set_password(password)
            account.state = User.State.ACTIVE
            account.is_active = True
            account.save()
            audit_record(actor=None, action=AuditAction.USER_RETURN, target=account)
    membership_add(actor=account, user=account, facility=invitation.facility, invitation=invitation)
    if invitation.is_mcs_admin:
        try:
            role_appoint(
                actor=invitation.created_by,
                user=account,
                facility=invitation.facility,
                role=Role.MCS_ADMIN,
                invitation=invitation,
            )
        except PermissionDenied:
            # The inviter may no longer appoint (第5条: e.g. no longer the facility manager):
            # the person joins as staff, and the facility manager appoints them if still meant.
            audit_record(
                actor=account,
                action=AuditAction.INVITATION_ROLE_NOT_APPOINTED,
                target=invitation,
                changes={"role": Role.MCS_ADMIN},
            )
    invitation.state = Invitation.State.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = account
    invitation.save(update_fields=["state", "accepted_at", "accepted_user"])
    audit_record(
        actor=account,
        action=AuditAction.INVITATION_ACCEPT,
        target=invitation,
        changes={"email": invitation.email, "user": account.pk},
    )
    if invitation.created_by is not None:
        notify(
            recipients=[invitation.created_by],
            kind="facilities.invitation_accepted",
            title=_("%(name)s さんが%(facility)sへの招待を受けました")
            % {"name": account.name or account.email, "facility": invitation.facility.name},
            url=reverse("facilities:staff", kwargs={"pk": invitation.facility_id}),
            reason=_("あなたが招待したため"),
        )
    return account


def _invitation_expiry(now) -> dt.datetime:
    return now + dt.timedelta(days=NetworkSettings.load().invitation_expiry_days)


def _queue_invitation_email(invitation: Invitation) -> None:
    enqueue_on_commit(send_invitation_email, invitation.pk, invitation.key)


# --- a staff member who left (留意事項 1, 第6条(4), 別紙4) --------------------------------------


@transaction.atomic
def staff_deactivate(
    *, actor, user: User, facility: Facility, reason: str, via_notice: bool = False
) -> FacilityMembership:
    """The staff member left `facility`: the membership and its roles end.

    Working nowhere else any more, their login stops (state "left") and they leave every group
    at once (the staff_left_network signal, received by groups); the groups' managers are
    told. Someone still working at another facility keeps the account and their groups there."""

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("理由を入力してください（例: 退職）。")})
    membership = (
        FacilityMembership.objects.select_for_update()
        .filter(user=user, facility=facility, is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationError(_("この方はこの事業所の在籍中の職員ではありません。"))
    now = timezone.now()
    membership.is_active = False
    membership.ended_at = now
    membership.end_reason = reason[:300]
    membership.save(update_fields=["is_active", "ended_at", "end_reason"])
    roles = list(
        FacilityRole.objects.filter(user=user, facility=facility).values_list("role", flat=True)
    )
    for role in roles:
        role_relieve(actor=actor, user=user, facility=facility, role=role, leaving=True)
    sessions_end(user=user)
    Invitation.objects.filter(
        email=user.email, facility=facility, state=Invitation.State.PENDING
    ).update(state=Invitation.State.REVOKED, revoked_at=now, revoked_by=_person(actor))
    user = User.objects.select_for_update().get(pk=user.pk)
    left_network = not FacilityMembership.objects.filter(user=user, is_active=True).exists()
    groups_ended = 0
    _announce_change(
        actor=actor,
        user=user,
        facility=facility,
        change=STAFF_REMOVED,
        via_notice=via_notice,
        reason=reason,
        roles=roles,
    )
    staff_left.send(
        sender=User,
        user=user,
        facility=facility,
        actor=actor,
        reason=reason,
        left_network=left_network,
    )
    if left_network:
        user.state = User.State.LEFT
        user.is_active = False  # login stops; open sessions end at their next request
        user.save(update_fields=["state", "is_active"])
        responses = staff_left_network.send(sender=User, user=user, actor=actor, reason=reason)
        groups_ended = sum(ended for _receiver, ended in responses)
    audit_record(
        actor=actor,
        action=AuditAction.STAFF_DEACTIVATE,
        target=membership,
        facility_id=facility.pk,
        changes={
            "user": user.email,
            "reason": reason,
            "roles_relieved": roles,
            "left_network": left_network,
            "groups_ended": groups_ended,
        },
    )
    return membership


# --- restriction and ban for misuse (留意事項 2) ------------------------------------------------


@transaction.atomic
def user_restrict(*, actor, user: User, facility: Facility, level: str, reason: str):
    """Restrict ("restricted": signs in, but is out of the directory and cannot join groups)
    or ban ("banned": login stops) a user of `facility`, with a reason. A measure already in
    force at this facility is superseded. Returns the UserRestriction row."""
    if level not in UserRestriction.Level.values:
        raise ValidationError({"level": _("措置（利用制限または利用禁止）を選んでください。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("理由を入力してください。")})
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise ValidationError(_("ご自身の利用を制限することはできません。"))
    if not FacilityMembership.objects.filter(user=user, facility=facility, is_active=True).exists():
        raise ValidationError(_("この方はこの事業所の在籍中の職員ではありません。"))
    now = timezone.now()
    superseded = list(
        UserRestriction.objects.select_for_update().filter(
            user=user, facility=facility, lifted_at__isnull=True
        )
    )
    for old in superseded:
        old.lifted_at = now
        old.lifted_by = _person(actor)
        old.lift_reason = _("新しい措置に置き換え")
        old.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    restriction = UserRestriction.objects.create(
        user=user,
        facility=facility,
        level=level,
        reason=reason,
        created_by=_person(actor),
        created_at=now,
    )
    state = _apply_user_state(user)
    # A measure ends the sessions at once; lifting it later does not bring them back.
    sessions_end(user=user)
    audit_record(
        actor=actor,
        action=AuditAction.USER_RESTRICT,
        target=restriction,
        changes={
            "user": user.email,
            "level": level,
            "reason": reason,
            "superseded": [r.pk for r in superseded],
            "state": state,
        },
    )
    notify(
        recipients=[user],  # a banned user is inactive and gets nothing: the admin tells them
        kind="facilities.user_restricted",
        title=_("%(facility)sのMCS管理者があなたの利用を制限しました")
        % {"facility": facility.name},
        body=_("理由: %(reason)s") % {"reason": reason},
        reason=_("あなたの利用に関する措置のため（留意事項2）"),
    )
    return restriction


@transaction.atomic
def user_reinstate(*, actor, user: User, facility: Facility, reason: str):
    """Lift the measure in force at `facility`; the user is active again unless another
    facility's measure still holds. Returns the lifted UserRestriction row."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("理由を入力してください。")})
    restriction = (
        UserRestriction.objects.select_for_update()
        .filter(user=user, facility=facility, lifted_at__isnull=True)
        .first()
    )
    if restriction is None:
        raise ValidationError(_("この事業所による利用制限・禁止はありません。"))
    restriction.lifted_at = timezone.now()
    restriction.lifted_by = _person(actor)
    restriction.lift_reason = reason
    restriction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    state = _apply_user_state(user)
    audit_record(
        actor=actor,
        action=AuditAction.USER_REINSTATE,
        target=restriction,
        changes={"user": user.email, "reason": reason, "state": state},
    )
    notify(
        recipients=[User.objects.get(pk=user.pk)],
        kind="facilities.user_reinstated",
        title=_("%(facility)sでのあなたの利用制限が解除されました") % {"facility": facility.name},
        body=_("理由: %(reason)s") % {"reason": reason},
        reason=_("あなたの利用に関する措置のため（留意事項2）"),
    )
    return restriction


def _apply_user_state(user: User) -> str:
    """The user's state is the strictest measure in force anywhere; "left" stays "left"."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.state == User.State.LEFT:
        return user.state
    levels = set(
        UserRestriction.objects.filter(user=user, lifted_at__isnull=True).values_list(
            "level", flat=True
        )
    )
    if UserRestriction.Level.BANNED in levels:
        state = User.State.BANNED
    elif UserRestriction.Level.RESTRICTED in levels:
        state = User.State.RESTRICTED
    else:
        state = User.State.ACTIVE
    is_active = state != User.State.BANNED
    if (user.state, user.is_active) != (state, is_active):
        user.state, user.is_active = state, is_active
        user.save(update_fields=["state", "is_active"])
    return state


# --- pledges and education (第7条) -------------------------------------------------------------


def _staff_pledge_version(on: dt.date | None = None):
    return version_in_force(Document.STAFF_PLEDGE, on=on)


@transaction.atomic
def pledge_record(
    *,
    actor,
    user: User,
    facility: Facility,
    signed_on: dt.date | None = None,
    waived: bool = False,
    note: str = "",
) -> StaffPledge:
    """The facility manager records the staff member's pledge (第7条): a signed paper of the
    date it was signed, or waived because one is already on file (なお書き; `signed_on` is then
    that pledge's date, when known). The version covered is the one in force on that date
    (on the day it is recorded, for a waiver). Recording again corrects the row."""
    if signed_on is None and not waived:
        raise ValidationError(
            {"signed_on": _("誓約日を入力するか、「既存の誓約書あり（省略）」を選んでください。")}
        )
    if signed_on is not None and signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("誓約日に未来の日付は入力できません。")})
    if not FacilityMembership.objects.filter(user=user, facility=facility, is_active=True).exists():
        raise ValidationError(_("この方はこの事業所の在籍中の職員ではありません。"))
    version = _staff_pledge_version(None if waived else signed_on)
    method = StaffPledge.Method.WAIVED if waived else StaffPledge.Method.PAPER
    pledge, created = StaffPledge.objects.update_or_create(
        user=user,
        facility=facility,
        defaults={
            "signed_on": signed_on,
            "waived": waived,
            "method": method,
            "rule_version": version,
            "note": note.strip()[:300],
            "recorded_by": _person(actor),
            "recorded_at": timezone.now(),
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.PLEDGE_RECORD if created else AuditAction.PLEDGE_CORRECT,
        target=pledge,
        changes={
            "user": user.email,
            "signed_on": signed_on,
            "waived": waived,
            "method": method,
            "rule_version": version.pk,
        },
    )
    return pledge


@transaction.atomic
def pledge_confirm(*, actor: User, facility: Facility, rule_version) -> StaffPledge:
    """The staff member confirms, on the portal, the pledge of items (1)–(5) shown to them
    (第7条), in the version they read. A version no longer in force is refused (the page was
    opened before a new one took effect); confirming the same version again changes nothing."""
    if not FacilityMembership.objects.filter(
        user=actor, facility=facility, is_active=True
    ).exists():
        raise PermissionDenied
    today = timezone.localdate()
    current = _staff_pledge_version(today)
    if rule_version is None or rule_version.pk != current.pk:
        raise ValidationError(
            _("誓約書の内容が改定されました。新しい内容を読んでから、もう一度確認してください。")
        )
    existing = StaffPledge.objects.select_for_update().filter(user=actor, facility=facility).first()
    if (
        existing is not None
        and existing.rule_version_id == current.pk
        and existing.method != StaffPledge.Method.WAIVED
    ):
        return existing
    pledge, _created = StaffPledge.objects.update_or_create(
        user=actor,
        facility=facility,
        defaults={
            "signed_on": today,
            "waived": False,
            "method": StaffPledge.Method.PORTAL,
            "rule_version": current,
            "recorded_by": actor,
            "recorded_at": timezone.now(),
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.PLEDGE_CONFIRM,
        target=pledge,
        changes={
            "user": actor.email,
            "signed_on": today,
            "rule_version": current.pk,
            "previous_version": getattr(existing, "rule_version_id", None),
        },
    )
    return pledge


@transaction.atomic
def education_session_save(
    *,
    actor,
    facility: Facility,
    held_on: dt.date,
    topic: str,
    attendees,
    notes: str = "",
    session: EducationSession | None = None,
) -> EducationSession:
    """Record an education session (date, topic, attendees), or correct one. The facility
    manager runs education (第7条) and the MCS administrator, who oversees the staff's use of
    MCS (第6条), records it too; nobody else (the demo loader records as nobody)."""
    if (
        actor is not None
        and not actor.has_perm("facilities.manage_education", facility)
        and not actor.has_perm("facilities.manage_staff", facility)
    ):
        raise PermissionDenied
    topic = (topic or "").strip()
    if not topic:
        raise ValidationError({"topic": _("内容を入力してください。")})
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("実施日に未来の日付は入力できません。")})
    attendee_ids = {u.pk for u in attendees}
    staff_ids = set(
        FacilityMembership.objects.filter(facility=facility, user_id__in=attendee_ids).values_list(
            "user_id", flat=True
        )
    )
    if attendee_ids - staff_ids:
        raise ValidationError({"attendees": _("出席者はこの事業所の職員から選んでください。")})
    if session is None:
        session = EducationSession.objects.create(
            facility=facility,
            held_on=held_on,
            topic=topic,
            notes=notes,
            recorded_by=_person(actor),
        )
        session.attendees.set(attendee_ids)
        audit_record(
            actor=actor,
            action=AuditAction.EDUCATION_CREATE,
            target=session,
            changes={"held_on": held_on, "topic": topic, "attendees": sorted(attendee_ids)},
        )
        return session
    session = EducationSession.objects.select_for_update().get(pk=session.pk, facility=facility)
    session, changed = model_update(
        instance=session,
        fields=("held_on", "topic", "notes"),
        data={"held_on": held_on, "topic": topic, "notes": notes},
    )
    if set(session.attendees.values_list("pk", flat=True)) != attendee_ids:
        session.attendees.set(attendee_ids)
        changed.append("attendees")
    audit_update(actor=actor, action=AuditAction.EDUCATION_UPDATE, target=session, changed=changed)
    return session


def _person(actor) -> User | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# --- the facility's own rules (第14条) ------------------------------------------------------------


def facility_rules_publish(
    *,
    actor: User,
    facility: Facility,
    source: str,
    approved_on: dt.date,
    effective_on: dt.date,
    summary: str = "",
):
    """第14条: what the rules leave to each facility, its manager sets as the facility's own
    rules, read by its staff. A new version each time (the older ones stay on record)."""
    if not FacilityRole.objects.filter(
        user=actor, facility=facility, role=FacilityRole.Role.FACILITY_MANAGER
    ).exists():
        raise PermissionDenied
    return rule_version_publish(
        actor=actor,
        document=Document.FACILITY_RULES,
        facility=facility,
        source=source,
        approved_on=approved_on,
        effective_on=effective_on,
        summary=summary,
    )
