"""Every write to groups, memberships, reviews, the archive and announcements.

Each service is one transaction, writes its audit event, changes the guardian grants that
follow from the fact it changes (permissions.grants_for) and tells the people concerned.

Audit rows name groups by id only: a patient group's name is the patient's name, and the audit
trail outlives the patient's personal data (retention, 別紙6).
"""

import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Iterator
from itertools import chain

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consents.models import Consent, Patient, active_consent_q
from consents.permissions import can_register_patient
from consents.selectors import pending_addendum_facility_ids
from consents.services import (
    ErasureReason,
    patient_access_record,
    patient_access_record_sql,
    patients_erase_everywhere,
)
from facilities.models import FacilityMembership, FacilityRole, User
from facilities.permissions import facility_ids_with
from facilities.selectors import role_holder_ids
from mcnet.audit import AuditAction, audit_record
from mcnet.models import NetworkSettings, Notification
from mcnet.notifications import (
    Message,
    link_by_pk,
    notifications_scrub,
    notify,
    send_notifications,
)
from mcnet.services import object_grants_set
from mcnet.text import normalize_kana

from .models import (
    Announcement,
    AnnouncementRead,
    Group,
    GroupAttestation,
    GroupUserObjectPermission,
    Membership,
    PostDeletion,
    StaffAttestation,
    StaffAttestationLine,
    SupporterReview,
    TeamNotice,
    group_label,
    patient_group_name,
)
from .permissions import (
    ACCESS_GROUP,
    MANAGE_GROUP,
    can_archive,
    can_attest_staff,
    can_remove_as_staff_admin,
    grants_for,
    group_ids_granted,
)
from .selectors import (
    ReviewClock,
    announcement_recipients,
    end_report_undoable_until,
    facilities_attestation_overdue,
    group_opened_by,
    group_url,
    groups_attestation_overdue,
    invitable_facility_ids,
    invitation_expired,
    mcs_admins_of,
    reviewed_groups,
    staff_line_is_discrepancy,
    staff_to_attest,
    team_key,
    team_notice_groups_for,
)

logger = logging.getLogger(__name__)

# 第8条(2): a care team rarely needs more at once; one page of the invite picker's choices.
MAX_INVITES_AT_ONCE = 20

State = Membership.State
GroupState = Group.State


# --- helpers -----------------------------------------------------------------------------------


def _sync_grants(*, group: Group, user) -> None:
    """Make the user's grants on `group` equal to what their membership row gives."""
    accepted = group.memberships.filter(user=user, state=State.ACCEPTED).exists()
    wanted = grants_for(
        accepted=accepted,
        is_manager=group.manager_id == user.pk,
        archived=group.state == GroupState.ARCHIVED,
        closed=group.is_closed,
    )
    object_grants_set(user=user, obj=group, wanted=wanted, grants=GroupUserObjectPermission)


def _sync_group_grants(group: Group) -> None:
    """After a change of the group itself (state, manager): every member and grant holder."""
    user_ids = set(
        group.memberships.filter(state=State.ACCEPTED).values_list("user_id", flat=True)
    ) | set(
        GroupUserObjectPermission.objects.filter(content_object=group).values_list(
            "user_id", flat=True
        )
    )
    for user in User.objects.filter(pk__in=user_ids):
        _sync_grants(group=group, user=user)


def _audit(actor, action: AuditAction, group: Group, **changes) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="groups.group",
        object_id=group.pk,
        facility_id=group.facility_id,
        changes=changes,
    )


def _audit_membership(actor, action: AuditAction, membership: Membership, **changes) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="groups.membership",
        object_id=membership.pk,
        facility_id=membership.group.facility_id,
        changes={"group": membership.group_id, "user": membership.user.email, **changes},
    )


def _invitation_url(group: Group) -> str:
    return reverse("groups:invitation", args=[group.pk])


def _name_of(user) -> str:
    return (user.name or user.email) if user else _("（不明）")


def _require_manager(actor, group: Group) -> None:
    if not (actor and actor.has_perm(MANAGE_GROUP, group)):
        raise PermissionDenied


def _require_open(group: Group) -> None:
    if group.kind == Group.Kind.ALL_USERS:
        raise ValidationError(_("全ユーザーグループのメンバーは自動で決まります。"))
    if group.state != GroupState.ACTIVE:
        raise ValidationError(
            _("このグループは「%(state)s」のため変更できません。")
            % {"state": group.get_state_display()}
        )


def _is_accepted(group: Group, user) -> bool:
    return group.memberships.filter(user=user, state=State.ACCEPTED).exists()


# --- opening a group's page (the access log, national guideline via 第3条) ----------------------


def group_open(*, actor, pk: int, via: str) -> Group:
    """Who may open group `pk` (selectors.group_opened_by's decision; 404 for anyone else,
    deny by default) and, when it shows a patient, the opening's access-log record
    (consents.services.patient_access_record): both on every view, the page's rendering
    being all the cache may keep.

    For an accepted member, by their access grant (nearly every opening), the decision's read
    and the record's INSERT are one statement: one round trip and one commit, the page's whole
    cost on a cache hit besides the signed-in user (make bench). Anyone else (and SQLite, the
    demo) is decided first by every way of seeing a group, then recorded."""
    if connection.vendor == "postgresql" and actor.is_authenticated and actor.is_active:
        group = _group_opened_by_grant_and_recorded(actor=actor, pk=pk, via=via)
        if group is not None:
            return group
    group = group_opened_by(actor, pk)
    if group.patient_id:
        patient_access_record(actor=actor, patient=group.patient, via=via)
    return group


_OPENED_FIELDS = ("id", "kind", "patient_id", "facility_id")
_NOBODY = -1  # the user id the grant's query is compiled with, replaced by the asker's


@functools.cache
def _access_granted_sql() -> tuple[str, tuple]:
    """permissions.group_ids_granted's access grant as SQL and parameters, compiled once (on
    every view, building the ORM's query cost more than running it), for any user."""
    codename = ACCESS_GROUP.split(".")[1]
    return group_ids_granted(User(pk=_NOBODY), codename).query.sql_with_params()


def _group_opened_by_grant_and_recorded(*, actor, pk: int, via: str) -> Group | None:
    # Written as SQL, like facilities.selectors.signed_in_user: the decision's read and the
    # record's INSERT in one statement.
    quote = connection.ops.quote_name
    group_table, patient_table = quote(Group._meta.db_table), quote(Patient._meta.db_table)
    granted, granted_params = _access_granted_sql()
    record, record_params = patient_access_record_sql(
        actor=actor,
        via=via,
        rows="opened WHERE patient_id IS NOT NULL",
        patient_id="patient_id",
        facility_id="patient_facility_id",
    )
    sql = (
        "WITH opened AS ("  # noqa: S608 (Django's SQL and the models' tables; values are parameters)
        f" SELECT g.id, g.kind, g.patient_id, g.facility_id, p.facility_id AS patient_facility_id"
        f" FROM {group_table} g LEFT JOIN {patient_table} p ON p.id = g.patient_id"
        f" WHERE g.id = %s AND g.id IN ({granted})"
        f"), recorded AS ({record})"
        f" SELECT {', '.join(_OPENED_FIELDS)} FROM opened"
    )
    params = [actor.pk if param == _NOBODY else param for param in granted_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, *params, *record_params])
        row = cursor.fetchone()
    return None if row is None else Group.from_db(connection.alias, _OPENED_FIELDS, row)


# --- creating groups ---------------------------------------------------------------------------


@transaction.atomic
def group_create_for_patient(*, actor, patient: Patient) -> Group:
    """第8条, 第9条2項: the patient's care manager creates the group, only with a valid
    consent; one working group per patient (留意事項 1)."""
    if not can_register_patient(actor, patient.facility):
        raise PermissionDenied
    if patient.is_erased:
        raise ValidationError(_("この患者の個人情報は削除されています。"), code="erased")
    if not patient.consents.active().exists():
        raise ValidationError(
            _(
                "この患者には有効な同意書がありません。先に同意書（別紙7）を記録してください"
                "（運用規程 第9条2項: 同意がなければ情報を共有できません）。"
            ),
            code="no_consent",
        )
    existing = Group.objects.filter(patient=patient).exclude(state=GroupState.ARCHIVED).first()
    if existing is not None:
        raise ValidationError(
            _(
                "この患者にはすでに利用中のグループ「%(name)s」があります。1人の患者につき"
                "グループは1つです（留意事項1: 複数の患者の情報を混在させない）。"
            )
            % {"name": existing.name},
            code="duplicate",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            group = Group.objects.create(
                kind=Group.Kind.PATIENT,
                name=patient_group_name(patient),
                patient=patient,
                facility=patient.facility,
                manager=actor,
                created_by=actor,
                created_at=now,
            )
    except IntegrityError as exc:  # a second request won the race: the index said no
        raise ValidationError(
            _("この患者にはすでに利用中のグループがあります（留意事項1）。"), code="duplicate"
        ) from exc
    Membership.objects.create(
        group=group,
        user=actor,
        state=State.ACCEPTED,
        invited_by=actor,
        responded_at=now,
        via_facility=group.facility,
    )
    _sync_grants(group=group, user=actor)
    _audit(actor, AuditAction.GROUP_CREATE, group, kind=group.kind, patient=patient.pk)
    return group


@transaction.atomic
def group_create_free(*, actor, name: str, description: str = "") -> Group:
    """留意事項 1 (2): anyone may create a free group; it holds no patient."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("グループ名を入力してください。"), code="required")
    facility_row = (
        FacilityMembership.objects.filter(user=actor, is_active=True).order_by("started_at").first()
    )
    now = timezone.now()
    group = Group.objects.create(
        kind=Group.Kind.FREE,
        name=name,
        description=description,
        facility=facility_row.facility if facility_row else None,
        manager=actor,
        created_by=actor,
        created_at=now,
    )
    Membership.objects.create(
        group=group,
        user=actor,
        state=State.ACCEPTED,
        invited_by=actor,
        responded_at=now,
        via_facility=group.facility,
    )
    _sync_grants(group=group, user=actor)
    _audit(actor, AuditAction.GROUP_CREATE, group, kind=group.kind, name=name)
    return group


def patient_groups_follow_name(*, patient: Patient) -> int:
    """留意事項 1 (1): a patient group is named after its patient, also after a correction.
    Called by consents.services.patient_update inside its transaction."""
    return Group.objects.filter(patient=patient).update(name=patient_group_name(patient))


# --- invitations and membership (第8条(2), 留意事項 4) ----------------------------------------


@transaction.atomic
def _via_facility(group: Group, facility_ids: set, covered) -> int:
    """The facility through which the member joins: the group's own if they work there, else
    one that the consent covers, else any of theirs (the smallest id: stable)."""
    if group.facility_id in facility_ids:
        return group.facility_id
    return min((facility_ids & covered) if covered else facility_ids)


def membership_invite(*, actor, group: Group, user) -> Membership:
    """The manager invites a user from the directory, inside or outside the facility."""
    _require_manager(actor, group)
    _require_open(group)
    if not (user.is_active and user.state == User.State.ACTIVE):
        raise ValidationError(
            _("%(name)s さんは現在利用中ではないため招待できません。") % {"name": _name_of(user)},
            code="inactive",
        )
    facility_ids = set(
        FacilityMembership.objects.filter(user=user, is_active=True).values_list(
            "facility_id", flat=True
        )
    )
    if not facility_ids:
        raise ValidationError(
            _("%(name)s さんはどの事業所にも所属していないため招待できません。")
            % {"name": _name_of(user)},
            code="no_facility",
        )
    covered = invitable_facility_ids(group)
    if covered is not None and not facility_ids & covered:
        if facility_ids & pending_addendum_facility_ids(group.patient_id):
            # 別紙7: an addendum counts once the signed paper is recorded, not when printed.
            raise ValidationError(
                _(
                    "%(name)s さんの事業所は追加同意書に記載されていますが、署名済みとして"
                    "記録されていません。署名済みの追加同意書の画像を添付するか、"
                    "「原本を事業所で保管」を記録してから招待してください（別紙7）。"
                )
                % {"name": _name_of(user)},
                code="addendum_unsigned",
            )
        raise ValidationError(
            _(
                "%(name)s さんの事業所は、この患者の同意書の対象事業所に含まれていません。"
                "追加同意書を作成して患者の署名を得たうえで、署名済みとして記録してください"
                "（別紙7）。"
            )
            % {"name": _name_of(user)},
            code="not_covered",
        )
    if group.memberships.filter(user=user, state__in=Membership.OPEN_STATES).exists():
        raise ValidationError(
            _("%(name)s さんはすでに招待中または参加中です。") % {"name": _name_of(user)},
            code="already",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                group=group,
                user=user,
                state=State.INVITED,
                invited_by=actor,
                via_facility_id=_via_facility(group, facility_ids, covered),
            )
    except IntegrityError as exc:
        raise ValidationError(_("すでに招待中または参加中です。"), code="already") from exc
    _audit_membership(actor, AuditAction.MEMBERSHIP_INVITE, membership)
    notify(
        recipients=[user],
        kind="groups.invitation",
        title=_("「%(group)s」への招待") % {"group": group.name},
        body=_(
            "%(inviter)s さんから連携グループ「%(group)s」に招待されました。"
            "参加することがふさわしいかを判断してから、受理または辞退してください（留意事項4）。"
        )
        % {"inviter": _name_of(actor), "group": group.name},
        url=_invitation_url(group),
        reason=_("あなたが招待されたため"),
    )
    return membership


@transaction.atomic
def memberships_invite(*, actor, group: Group, users) -> list[Membership]:
    """第8条(2): several people invited at once, all or none — a refusal for anyone (not
    covered by the consent, already invited…) names them and invites nobody, so the manager
    corrects the list and sends it again."""
    users = list(users)
    if not users:
        raise ValidationError(_("招待する人を選んでください。"), code="none")
    if len(users) > MAX_INVITES_AT_ONCE:
        raise ValidationError(
            _("一度に招待できるのは %(n)s 人までです。") % {"n": MAX_INVITES_AT_ONCE},
            code="too_many",
        )
    invited, refusals = [], []
    for user in users:
        try:
            invited.append(membership_invite(actor=actor, group=group, user=user))
        except ValidationError as exc:
            refusals.extend(exc.messages)
    if refusals:  # leaving the atomic block with the error undoes those already invited
        raise ValidationError(refusals, code="refused")
    return invited


def _answer_invitation(*, actor, membership: Membership, accept: bool) -> Membership:
    """留意事項 4: the invitee, having judged whether they belong, accepts or declines."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("group", "group__manager")
        .get(pk=membership.pk)
    )
    if membership.user_id != actor.pk or membership.state != State.INVITED:
        raise PermissionDenied
    group = membership.group
    if accept:
        _require_open(group)
        if actor.state != User.State.ACTIVE:  # restricted (留意事項 2): cannot join groups
            raise ValidationError(
                _("利用が制限されているため、グループに参加できません。"), code="restricted"
            )
        if invitation_expired(membership):
            raise ValidationError(
                _(
                    "この招待は有効期限が切れています。グループ管理者に再度の招待を依頼してください。"
                ),
                code="expired",
            )
    membership.state = State.ACCEPTED if accept else State.DECLINED
    membership.responded_at = timezone.now()
    membership.save(update_fields=["state", "responded_at"])
    _sync_grants(group=group, user=actor)
    _audit_membership(
        actor,
        AuditAction.MEMBERSHIP_ACCEPT if accept else AuditAction.MEMBERSHIP_DECLINE,
        membership,
    )
    title = (
        _("%(name)s さんが「%(group)s」への招待を受理しました")
        if accept
        else _("%(name)s さんが「%(group)s」への招待を辞退しました")
    )
    body = (
        _(
            "%(name)s さんが招待を受理し、支援チームに加わりました。"
            "グループのページで支援チームを確認できます。"
        )
        if accept
        else _("%(name)s さんが招待を辞退しました。必要であれば、別の方を招待してください。")
    )
    notify(
        recipients=[group.manager],
        kind="groups.accepted" if accept else "groups.declined",
        title=title % {"name": _name_of(actor), "group": group.name},
        body=body % {"name": _name_of(actor)},
        url=group_url(group),
        reason=_("あなたがこのグループの管理者であるため"),
    )
    return membership


@transaction.atomic
def group_invitation_accept(*, actor, membership: Membership) -> Membership:
    return _answer_invitation(actor=actor, membership=membership, accept=True)


@transaction.atomic
def group_invitation_decline(*, actor, membership: Membership) -> Membership:
    return _answer_invitation(actor=actor, membership=membership, accept=False)


def _end_membership(*, actor, membership: Membership, reason: str, now=None) -> None:
    """Close one open membership (invited → cancelled, accepted → removed) and its grants."""
    membership.state = State.CANCELLED if membership.state == State.INVITED else State.REMOVED
    membership.ended_at = now or timezone.now()
    membership.ended_by = actor if getattr(actor, "is_authenticated", False) else None
    membership.end_reason = reason[:300]
    membership.save(update_fields=["state", "ended_at", "ended_by", "end_reason"])
    _sync_grants(group=membership.group, user=membership.user)
    # The reason is free text (it may quote the patient): the row keeps it, the audit trail
    # only that one was given (別紙6: the trail outlives the patient's data).
    _audit_membership(
        actor,
        AuditAction.MEMBERSHIP_CANCELLED
        if membership.state == State.CANCELLED
        else AuditAction.MEMBERSHIP_REMOVED,
        membership,
        reason_given=True,
    )


@transaction.atomic
def membership_remove(*, actor, membership: Membership, reason: str) -> Membership:
    """The manager removes a member (or cancels an invitation) with a reason (第8条(2)); a
    facility's MCS administrator may do the same for their own staff (留意事項 1)."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("group", "group__manager", "user")
        .get(pk=membership.pk)
    )
    group = membership.group
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("解除の理由を入力してください。"), code="required")
    if not membership.is_open:
        raise ValidationError(_("このメンバーはすでに解除されています。"), code="closed")
    as_manager = actor.has_perm(MANAGE_GROUP, group)
    if not as_manager and not can_remove_as_staff_admin(actor, membership):
        raise PermissionDenied
    if as_manager and membership.user_id == actor.pk:
        raise ValidationError(
            _("管理者自身は解除できません。先に管理者を引き継いでください。"), code="self"
        )
    _end_membership(actor=actor, membership=membership, reason=reason)
    removed_user = membership.user
    invited = membership.state == State.CANCELLED
    notify(
        recipients=[removed_user],
        kind="groups.removed",
        title=(
            _("「%(group)s」への招待が取り消されました")
            if invited
            else _("「%(group)s」のメンバーから解除されました")
        )
        % {"group": group.name},
        body=_("理由: %(reason)s") % {"reason": reason},
        url=group_url(group),
        reason=_("あなたのメンバー登録が変更されたため"),
    )
    if group.manager and group.manager_id not in (actor.pk, removed_user.pk):
        notify(
            recipients=[group.manager],
            kind="groups.removed_by_admin",
            title=_("%(name)s さんが事業所のMCS管理者により「%(group)s」から解除されました")
            % {"name": _name_of(removed_user), "group": group.name},
            body=_("理由: %(reason)s") % {"reason": reason},
            url=group_url(group),
            reason=_("あなたがこのグループの管理者であるため"),
        )
    if group.manager_id == removed_user.pk and group.is_working:
        _tell_admins_manager_missing(group)
    return membership


def _tell_admins_manager_missing(group: Group) -> None:
    notify(
        recipients=mcs_admins_of(group.facility),
        kind="groups.manager_missing",
        title=_("「%(group)s」の管理者が不在になりました") % {"group": group.label},
        body=_("グループ管理者を引き継いでください（留意事項1）。"),
        url=reverse("groups:handover", args=[group.pk]),
        reason=_("あなたがこのグループを管理する事業所のMCS管理者であるため"),
    )


@transaction.atomic
def membership_leave(*, actor, group: Group) -> Membership:
    """留意事項 4: a member who is no longer in charge removes themself at once."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .filter(group=group, user=actor, state=State.ACCEPTED)
        .first()
    )
    if membership is None:
        raise PermissionDenied
    if group.manager_id == actor.pk and group.is_working:
        raise ValidationError(
            _("グループ管理者は退出できません。先に別の管理者に引き継いでください。"),
            code="manager",
        )
    membership.state = State.LEFT
    membership.ended_at = timezone.now()
    membership.ended_by = actor
    membership.save(update_fields=["state", "ended_at", "ended_by"])
    _sync_grants(group=group, user=actor)
    _audit_membership(actor, AuditAction.MEMBERSHIP_LEAVE, membership)
    if group.is_working:
        notify(
            recipients=[group.manager],
            kind="groups.left",
            title=_("%(name)s さんが「%(group)s」から退出しました")
            % {"name": _name_of(actor), "group": group.name},
            url=group_url(group),
            reason=_("あなたがこのグループの管理者であるため"),
        )
    return membership


def manager_gone(group: Group) -> bool:
    """The group's manager left the facility or the network, or was banned or restricted:
    only then may the facility's custodians hand the group over (留意事項 1)."""
    manager = group.manager
    if manager is None:
        return True
    if not (manager.is_active and manager.state == User.State.ACTIVE):
        return True
    return (
        group.facility_id is not None
        and not FacilityMembership.objects.filter(
            user=manager, facility_id=group.facility_id, is_active=True
        ).exists()
    )


@transaction.atomic
def group_handover(*, actor, group: Group, new_manager, reason: str = "") -> Group:
    """The manager hands the group to another manager. When the manager has left or was
    deactivated, the owning facility's MCS administrator or facility manager does, with a
    reason; while the manager is still there, nobody takes the group from them."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    reason = (reason or "").strip()[:300]
    is_manager = group.manager_id == actor.pk and actor.has_perm(MANAGE_GROUP, group)
    if not is_manager:
        is_custodian = (
            group.facility_id is not None
            and facility_ids_with(actor, "archive_groups", "sign_for_facility")
            .filter(content_object_id=group.facility_id)
            .exists()
        )
        if not is_custodian:
            raise PermissionDenied
        if not manager_gone(group):
            raise ValidationError(
                _(
                    "管理者の %(name)s さんは在籍中のため、引き継ぎは管理者本人が行います。"
                    "退職・利用停止のときにだけ、MCS管理者または事業所管理者が引き継げます。"
                )
                % {"name": _name_of(group.manager)},
                code="manager_present",
            )
        if not reason:
            raise ValidationError(
                {"reason": _("引き継ぎの理由を入力してください（例: 管理者の退職）。")},
                code="reason",
            )
    _require_open(group)
    if new_manager.pk == group.manager_id:
        raise ValidationError(_("すでにこのグループの管理者です。"), code="same")
    if not (new_manager.is_active and new_manager.state == User.State.ACTIVE):
        raise ValidationError(_("利用中の人にだけ引き継げます。"), code="inactive")
    is_group_manager_here = group.facility is not None and can_register_patient(
        new_manager, group.facility
    )
    accepted = _is_accepted(group, new_manager)
    if group.kind == Group.Kind.PATIENT and not is_group_manager_here:
        raise ValidationError(
            _(
                "患者グループは、%(facility)s の患者グループ管理者にだけ引き継げます"
                "（運用規程 第8条）。"
            )
            % {"facility": group.facility},
            code="not_group_manager",
        )
    if not accepted and group.kind == Group.Kind.FREE:
        raise ValidationError(_("グループのメンバーにだけ引き継げます。"), code="not_member")
    previous = group.manager
    now = timezone.now()
    if not accepted:
        # The facility's own patient-group manager takes over: they already see the patient
        # (register_patients), and taking the group is their acceptance.
        invited = group.memberships.filter(user=new_manager, state=State.INVITED)
        if not invited.update(state=State.ACCEPTED, responded_at=now):
            Membership.objects.create(
                group=group,
                user=new_manager,
                state=State.ACCEPTED,
                invited_by=actor,
                responded_at=now,
                via_facility=group.facility,
            )
    group.manager = new_manager
    group.save(update_fields=["manager"])
    for user in filter(None, [previous, new_manager]):
        _sync_grants(group=group, user=user)
    _audit(
        actor,
        AuditAction.GROUP_HANDOVER,
        group,
        previous=previous.email if previous else "",
        manager=new_manager.email,
        reason=reason,
        by_manager=is_manager,
    )
    notify(
        recipients=[new_manager],
        kind="groups.handover",
        title=_("「%(group)s」の管理者になりました") % {"group": group.name},
        url=group_url(group),
        reason=_("グループ管理者が引き継がれたため"),
    )
    if previous and previous.pk != actor.pk:
        notify(
            recipients=[previous],
            kind="groups.handover",
            title=_("「%(group)s」の管理者が %(name)s さんに引き継がれました")
            % {"group": group.name, "name": _name_of(new_manager)},
            url=group_url(group),
            reason=_("あなたがこのグループの管理者だったため"),
        )
    return group


# --- supporter review (留意事項 1) ----------------------------------------------------------


@transaction.atomic
def supporter_review_record(
    *,
    actor,
    group: Group,
    remove=(),
    reason: str = "",
    note: str = "",
    timeline_checked: bool = False,
) -> SupporterReview:
    """The manager checks that every supporter still belongs, removes who does not, and the
    review is recorded (who, when, removed whom). It is also when the manager confirms having
    looked over the group's MCS timeline (第8条(1), 留意事項4): without that, no review."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    _require_manager(actor, group)
    _require_open(group)
    if group.kind != Group.Kind.PATIENT:
        raise ValidationError(_("精査は患者グループについて行います。"), code="kind")
    if not timeline_checked:
        raise ValidationError(
            {"timeline_checked": TIMELINE_CHECK_REQUIRED}, code="timeline_unchecked"
        )
    remove = list(remove)
    if remove and not (reason or "").strip():
        raise ValidationError(_("解除するメンバーがいるときは、解除の理由を入力してください。"))
    now = timezone.now()
    removed = []
    for membership in remove:
        if membership.group_id != group.pk or membership.user_id == actor.pk:
            raise ValidationError(_("このメンバーは精査で解除できません。"), code="invalid")
        membership = Membership.objects.select_related("user", "group").get(pk=membership.pk)
        if not membership.is_open:
            continue
        _end_membership(actor=actor, membership=membership, reason=reason.strip(), now=now)
        notify(
            recipients=[membership.user],
            kind="groups.removed",
            title=_("「%(group)s」のメンバーから解除されました") % {"group": group.name},
            body=_("サポーターの精査により解除されました。理由: %(reason)s") % {"reason": reason},
            url=group_url(group),
            reason=_("あなたのメンバー登録が変更されたため"),
        )
        removed.append(membership)
    review = SupporterReview.objects.create(
        group=group, reviewed_by=actor, reviewed_at=now, note=note, timeline_checked=True
    )
    review.removed.set(removed)
    group.last_reviewed_at = now
    group.save(update_fields=["last_reviewed_at"])
    _audit(
        actor,
        AuditAction.GROUP_REVIEW,
        group,
        removed=[m.user.email for m in removed],
        timeline_checked=True,
    )
    return review


TIMELINE_CHECK_REQUIRED = _(
    "MCSのタイムラインを確認し、この患者のことだけが適切な範囲で書かれていることを"
    "確かめてから、チェックを入れてください（第8条(1)、留意事項4）。"
)


# --- posts deleted in MCS (第8条(1)) --------------------------------------------------------


def note_names_patient(note: str, patient: Patient | None) -> bool:
    """Whether a note quotes the patient's name or kana (spaces and widths ignored): the
    portal keeps only that a post was deleted, never who it was about."""
    if patient is None or not note:
        return False
    # NFKC makes a full-width space a space; kana are compared as katakana.
    squeezed = normalize_kana(note).replace(" ", "")
    for text in (patient.name, patient.kana):
        text = normalize_kana(text or "").replace(" ", "")
        if len(text) >= 2 and text in squeezed:
            return True
    return False


@transaction.atomic
def post_deletion_record(
    *, actor, group: Group, deleted_on: dt.date, category: str, note: str = ""
) -> PostDeletion:
    """The manager deleted a post in MCS that must not be there (第8条(1), 留意事項4): the
    date, why, and a short note without patient details."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    _require_manager(actor, group)
    if group.kind != Group.Kind.PATIENT:
        raise ValidationError(_("投稿の削除は患者グループについて記録します。"), code="kind")
    if category not in PostDeletion.Category.values:
        raise ValidationError({"category": _("削除の理由を選んでください。")})
    if deleted_on > timezone.localdate():
        raise ValidationError({"deleted_on": _("削除した日に未来の日付は入力できません。")})
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("メモは200文字以内で入力してください。")})
    if note_names_patient(note, group.patient):
        raise ValidationError(
            {"note": _("メモに患者の氏名を書かないでください。何を削除したかだけを短く書きます。")}
        )
    deletion = PostDeletion.objects.create(
        group=group,
        deleted_on=deleted_on,
        category=category,
        note=note,
        recorded_by=actor,
    )
    # Ids and the category only: the note is free text.
    audit_record(
        actor=actor,
        action=AuditAction.GROUP_POST_DELETION,
        object_type="groups.postdeletion",
        object_id=deletion.pk,
        facility_id=group.facility_id,
        changes={"group": group.pk, "category": category, "deleted_on": deleted_on},
    )
    return deletion


# --- what MCS holds, attested (MCS has no API and no export of its members) ------------------

SUPERSEDED = _("新しい照合に置き換えられました。")


def _resolution(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"resolution": _("どのように解消したかを入力してください。")})
    if len(text) > 200:
        raise ValidationError({"resolution": _("200文字以内で入力してください。")})
    return text


@transaction.atomic
def staff_attestation_record(
    *, actor, facility, statuses: dict[int, str], now=None
) -> StaffAttestation:
    """The MCS administrator compared the portal's staff list with MCS, staff by staff. Each
    difference becomes a task on their list; the tasks of an earlier attestation give way to
    this one's."""
    if not (actor and can_attest_staff(actor, facility)):
        raise PermissionDenied
    facility = type(facility).objects.select_for_update().get(pk=facility.pk)
    expected = {user.pk: in_portal for user, in_portal in staff_to_attest(facility)}
    if set(statuses) != set(expected):
        raise ValidationError(
            _("一覧の全員について、MCSでの状態を選んでください。"), code="incomplete"
        )
    if any(status not in StaffAttestationLine.Status.values for status in statuses.values()):
        raise ValidationError(_("MCSでの状態を選び直してください。"), code="invalid")
    now = now or timezone.now()
    StaffAttestationLine.objects.filter(
        attestation__facility=facility, discrepancy=True, resolved_at__isnull=True
    ).update(resolved_at=now, resolved_by=actor, resolution=str(SUPERSEDED))
    attestation = StaffAttestation.objects.create(
        facility=facility, attested_by=actor, attested_at=now
    )
    lines = StaffAttestationLine.objects.bulk_create(
        StaffAttestationLine(
            attestation=attestation,
            user_id=user_id,
            in_portal=expected[user_id],
            status=statuses[user_id],
            discrepancy=staff_line_is_discrepancy(
                in_portal=expected[user_id], status=statuses[user_id]
            ),
        )
        for user_id in sorted(statuses)
    )
    audit_record(
        actor=actor,
        action=AuditAction.ATTESTATION_STAFF,
        object_type="groups.staffattestation",
        object_id=attestation.pk,
        facility_id=facility.pk,
        changes={
            "staff": len(lines),
            "discrepancies": sorted(line.user_id for line in lines if line.discrepancy),
        },
    )
    return attestation


@transaction.atomic
def staff_discrepancy_resolve(*, actor, line: StaffAttestationLine, resolution: str):
    facility = line.attestation.facility
    if not (actor and can_attest_staff(actor, facility)):
        raise PermissionDenied
    resolution = _resolution(resolution)
    line = StaffAttestationLine.objects.select_for_update().get(pk=line.pk)
    if not line.is_open:
        raise ValidationError(_("この相違は解消済みです。"), code="resolved")
    line.resolved_at, line.resolved_by, line.resolution = timezone.now(), actor, resolution
    line.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        actor=actor,
        action=AuditAction.ATTESTATION_STAFF_RESOLVE,
        object_type="groups.staffattestationline",
        object_id=line.pk,
        facility_id=facility.pk,
        changes={"user": line.user_id, "status": line.status},
    )
    return line


@transaction.atomic
def group_attestation_record(
    *, actor, group: Group, present_user_ids, extra_in_mcs: int, now=None
) -> GroupAttestation:
    """The manager compared the MCS group's members with the portal's: who of the portal's
    members is missing in MCS, and how many are in MCS only (留意事項 1, 第8条(2))."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    _require_manager(actor, group)
    _require_open(group)
    if group.kind != Group.Kind.PATIENT:
        raise ValidationError(_("照合は患者グループについて行います。"), code="kind")
    if extra_in_mcs is None or extra_in_mcs < 0:
        raise ValidationError({"extra_in_mcs": _("0以上の人数を入力してください。")})
    members = set(group.memberships.filter(state=State.ACCEPTED).values_list("user_id", flat=True))
    present = set(present_user_ids)
    if present - members:
        raise ValidationError(_("このグループのメンバーから選んでください。"), code="invalid")
    missing = members - present
    now = now or timezone.now()
    group.attestations.filter(discrepancy=True, resolved_at__isnull=True).update(
        resolved_at=now, resolved_by=actor, resolution=str(SUPERSEDED)
    )
    attestation = GroupAttestation.objects.create(
        group=group,
        attested_by=actor,
        attested_at=now,
        extra_in_mcs=extra_in_mcs,
        discrepancy=bool(missing) or extra_in_mcs > 0,
    )
    attestation.missing_in_mcs.set(missing)
    _audit(
        actor,
        AuditAction.ATTESTATION_GROUP,
        group,
        attestation=attestation.pk,
        missing=sorted(missing),
        extra_in_mcs=extra_in_mcs,
    )
    return attestation


@transaction.atomic
def group_discrepancy_resolve(*, actor, attestation: GroupAttestation, resolution: str):
    group = attestation.group
    _require_manager(actor, group)
    resolution = _resolution(resolution)
    attestation = GroupAttestation.objects.select_for_update().get(pk=attestation.pk)
    if not attestation.is_open:
        raise ValidationError(_("この相違は解消済みです。"), code="resolved")
    attestation.resolved_at, attestation.resolved_by = timezone.now(), actor
    attestation.resolution = resolution
    attestation.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    _audit(actor, AuditAction.ATTESTATION_GROUP_RESOLVE, group, attestation=attestation.pk)
    return attestation


@transaction.atomic
def attestation_reminders_send(*, now=None) -> dict:
    """Overdue attestations remind: the facility's MCS administrators for its staff, the
    group's manager for its members. Once per due date (dedupe keys); set-based."""
    now = now or timezone.now()
    interval = dt.timedelta(days=NetworkSettings.load().attestation_interval_days)
    sent = send_notifications(
        chain(
            _staff_attestation_reminders(now=now, interval=interval),
            _group_attestation_reminders(now=now, interval=interval),
        )
    )
    return {
        "staff": sent["groups.staff_attestation_overdue"],
        "groups": sent["groups.group_attestation_overdue"],
    }


def _staff_attestation_reminders(*, now, interval) -> Iterator[Message]:
    overdue = facilities_attestation_overdue(now=now)
    admins = role_holder_ids(overdue.values("pk"), FacilityRole.Role.MCS_ADMIN)
    title = _("%(facility)s: MCSとの職員登録の照合の期限が過ぎています")
    body = _(
        "MCSにはAPIがないため、ポータルの職員一覧とMCSの登録を職員ごとに照合してください"
        "（第6条(3)(4)）。"
    )
    reason = _("あなたがこの事業所のMCS管理者であるため")
    url = link_by_pk("groups:staff_attestation")
    for pk, name, base in overdue.order_by().values_list("pk", "name", "attestation_base"):
        due = timezone.localdate(base + interval)
        for admin_id in admins.get(pk, ()):
            yield Message(
                recipient_id=admin_id,
                kind="groups.staff_attestation_overdue",
                title=title % {"facility": name},
                body=body,
                url=url(pk),
                reason=reason,
                dedupe_key=f"groups.staff_attestation_overdue:{pk}:{due:%Y%m%d}",
            )


def _group_attestation_reminders(*, now, interval) -> Iterator[Message]:
    overdue = groups_attestation_overdue(now=now).filter(manager__isnull=False)
    title = _("「%(group)s」のメンバーとMCSの照合の期限が過ぎています")
    body = _("MCSのグループのメンバーが、ポータルのメンバーと一致しているか照合してください。")
    reason = _("あなたがこのグループの管理者であるため")
    url = link_by_pk("groups:attestation")
    rows = overdue.order_by().values_list("pk", "name", "attestation_base", "manager_id")
    for pk, name, base, manager_id in rows:
        due = timezone.localdate(base + interval)
        yield Message(
            recipient_id=manager_id,
            kind="groups.group_attestation_overdue",
            title=title % {"group": name},
            body=body,
            url=url(pk),
            reason=reason,
            dedupe_key=f"groups.group_attestation_overdue:{pk}:{due:%Y%m%d}",
        )


# --- end of care and the archive (留意事項 2, 3) ---------------------------------------------


def _cancel_invitations(*, actor, group: Group, reason: str) -> None:
    for membership in group.memberships.filter(state=State.INVITED).select_related("user"):
        membership.group = group
        _end_membership(actor=actor, membership=membership, reason=reason)


def _mark_to_be_archived(*, actor, group: Group, reason: str, note: str) -> None:
    now = timezone.now()
    group.state = GroupState.TO_BE_ARCHIVED
    group.end_reason = reason
    group.end_note = note
    group.end_reported_at = now
    group.end_reported_by = actor if getattr(actor, "is_authenticated", False) else None
    group.save(
        update_fields=["state", "end_reason", "end_note", "end_reported_at", "end_reported_by"]
    )
    _cancel_invitations(actor=actor, group=group, reason=_("グループの利用終了のため"))
    _audit(actor, AuditAction.GROUP_REPORT_END, group, reason=reason)
    notify(
        recipients=mcs_admins_of(group.facility),
        kind="groups.to_be_archived",
        title=_("「%(group)s」をアーカイブしてください") % {"group": group.label},
        body=_("理由: %(reason)s。速やかにアーカイブしてください（留意事項2）。")
        % {"reason": group.get_end_reason_display()},
        url=reverse("groups:archive_group", args=[group.pk]),
        reason=_("あなたがこのグループを管理する事業所のMCS管理者であるため"),
    )


@transaction.atomic
def group_report_end(*, actor, group: Group, reason: str, note: str = "") -> Group:
    """留意事項 3: the manager reports that the patient stopped using the network; the
    facility's MCS administrator is told."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    _require_manager(actor, group)
    _require_open(group)
    if group.kind != Group.Kind.PATIENT:
        raise ValidationError(_("利用終了の報告は患者グループについて行います。"))
    if reason not in Group.EndReason.values:
        raise ValidationError(_("終了の理由を選んでください。"), code="reason")
    _mark_to_be_archived(actor=actor, group=group, reason=reason, note=note)
    return group


@transaction.atomic
def group_report_end_undo(*, actor, group: Group) -> Group:
    """留意事項 3: an end-of-care report sent by mistake is withdrawn within a day; the group is
    active again and the MCS administrators no longer need to archive it. Invitations it
    cancelled stay cancelled (the invitees were told)."""
    group = Group.objects.select_for_update(of=("self",)).get(pk=group.pk)
    _require_manager(actor, group)
    if end_report_undoable_until(group) is None:
        raise ValidationError(
            _("この利用終了の報告は取り消せません（報告から1日以内で、アーカイブ前に限ります）。")
        )
    reason = group.end_reason
    group.state = GroupState.ACTIVE
    group.end_reason = ""
    group.end_note = ""
    group.end_reported_at = None
    group.end_reported_by = None
    group.save(
        update_fields=["state", "end_reason", "end_note", "end_reported_at", "end_reported_by"]
    )
    _audit(actor, AuditAction.GROUP_REPORT_END_UNDO, group, reason=reason)
    notify(
        recipients=mcs_admins_of(group.facility),
        kind="groups.end_report_undone",
        title=_("「%(group)s」のアーカイブは不要になりました") % {"group": group.label},
        body=_(
            "グループ管理者が利用終了の報告を取り消しました。グループは引き続き利用中です"
            "（留意事項3）。"
        ),
        url=group_url(group),
        reason=_("あなたがこのグループを管理する事業所のMCS管理者であるため"),
    )
    return group


def groups_end_for_patient(*, actor, patient: Patient, reason: str) -> list[Group]:
    """Consent withdrawn (or found invalid): the patient's working groups are to be archived at
    once, and everyone in them is told to stop sharing (第9条3項, 別紙5). Called inside the
    consents service's transaction."""
    ended = []
    for group in (
        Group.objects.select_for_update(of=("self",))
        .select_related("facility")
        .filter(patient=patient)
        .exclude(state=GroupState.ARCHIVED)
    ):
        _notifications_forget_patient(group)
        if group.state == GroupState.ACTIVE:
            _mark_to_be_archived(actor=actor, group=group, reason=reason, note="")
        else:  # already to be archived for another reason: the withdrawal is what counts now
            group.end_reason = reason
            group.save(update_fields=["end_reason"])
            _audit(actor, AuditAction.GROUP_REPORT_END, group, reason=reason)
        # Access ends with care (別紙5 (2)): from this moment only the custodians open it.
        _sync_group_grants(group)
        members = User.objects.filter(
            group_memberships__group=group, group_memberships__state=State.ACCEPTED
        ).exclude(pk=getattr(actor, "pk", None))
        notify(
            recipients=list(members),
            kind="groups.consent_withdrawn",
            title=_("「%(group)s」の同意が撤回されました") % {"group": group.label},
            body=_(
                "このグループでの情報共有を停止してください。グループはアーカイブされます"
                "（第9条3項）。"
            ),
            url=group_url(group),
            reason=_("あなたがこのグループのメンバーであるため"),
        )
        ended.append(group)
    return ended


@transaction.atomic
def groups_end_for_facility(*, actor, facility, note: str = "") -> list[Group]:
    """別紙4: a facility stops using the network. Its MCS administrators leave with it (the same
    step ends its staff's memberships), so nobody would be left to archive its groups (留意事項
    2): they are archived here, by the center's confirmation of the notice, and their members
    from other facilities told why. Called by enrollment.services."""
    now = timezone.now()
    ended = []
    for group in (
        Group.objects.select_for_update(of=("self",))
        .select_related("facility")
        .filter(facility=facility)
        .exclude(state=GroupState.ARCHIVED)
    ):
        if not group.end_reason:  # not reported ended before: the facility's stop is why
            group.end_reason = Group.EndReason.OTHER
            group.end_note = note
            group.end_reported_at = now
            group.end_reported_by = actor
        _archive(actor=actor, group=group, why=note)
        ended.append(group)
    return ended


@transaction.atomic
def group_archive(*, actor, group: Group, reason: str = "", note: str = "") -> Group:
    """留意事項 2: the MCS administrator moves the group to the archive. Read-only from then on;
    it keeps why and when, and leaves every working list."""
    group = (
        Group.objects.select_for_update(of=("self",)).select_related("facility").get(pk=group.pk)
    )
    if group.state == GroupState.ARCHIVED:
        raise ValidationError(_("このグループはすでにアーカイブされています。"), code="archived")
    if not can_archive(actor, group):
        raise PermissionDenied
    if not group.end_reason:
        if reason not in Group.EndReason.values:
            raise ValidationError(_("アーカイブの理由を選んでください。"), code="reason")
        group.end_reason = reason
        group.end_note = note
        group.end_reported_at = timezone.now()
        group.end_reported_by = actor
    _archive(actor=actor, group=group)
    return group


def _notifications_forget_patient(group: Group) -> int:
    """Access ends with care (別紙5 (2)): whoever was told about a patient group keeps the line
    in their inbox, without the patient's name (its links all live under /groups/<pk>/)."""
    if group.kind != Group.Kind.PATIENT:
        return 0
    return Notification.objects.filter(url__startswith=group_url(group)).update(
        title=_("%(group)sについての通知") % {"group": group.label}, body=""
    )


def _archive(*, actor, group: Group, why: str = "") -> None:
    """Into the archive: read-only, out of every working list, members told (`why` added to
    the reason when the archive is not the owning facility's own decision)."""
    group.state = GroupState.ARCHIVED
    group.archived_at = timezone.now()
    group.archived_by = actor
    group.save()
    _notifications_forget_patient(group)
    _cancel_invitations(actor=actor, group=group, reason=_("グループのアーカイブのため"))
    _sync_group_grants(group)
    _audit(actor, AuditAction.GROUP_ARCHIVE, group, reason=group.end_reason)
    members = User.objects.filter(
        group_memberships__group=group, group_memberships__state=State.ACCEPTED, is_active=True
    ).exclude(pk=getattr(actor, "pk", None))
    body = _("理由: %(reason)s") % {"reason": group.get_end_reason_display()}
    notify(
        recipients=list(members),
        kind="groups.archived",
        title=_("「%(group)s」がアーカイブされました") % {"group": group.label},
        body=f"{body}\n{why}" if why else body,
        url=group_url(group),
        reason=_("あなたがこのグループのメンバーであるため"),
    )


# --- a user who left (留意事項 1, 別紙4) --------------------------------------------------------


@transaction.atomic
def memberships_end_for_user(*, user, actor, reason: str) -> int:
    """A staff member who left loses every membership at once: invitations are cancelled,
    memberships removed, grants revoked, each working group's manager told (or, for the groups
    they managed, the owning facility's MCS administrators). Returns how many ended."""
    reason = (reason or "").strip() or _("利用中止（退職等）")
    memberships = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(user=user, state__in=Membership.OPEN_STATES)
        .select_related("group", "group__manager", "group__facility", "user")
    )
    _end_and_tell(memberships, user=user, actor=actor, reason=reason)
    # Whatever stale grant may remain (none should), it goes too.
    granted = set(
        GroupUserObjectPermission.objects.filter(user=user).values_list(
            "content_object_id", flat=True
        )
    )
    for group in Group.objects.filter(pk__in=granted):
        _sync_grants(group=group, user=user)
    return len(memberships)


@transaction.atomic
def memberships_end_for_facility(*, user, facility, actor, reason: str) -> int:
    """留意事項4: someone who left one facility but works at another loses the memberships
    they joined through the one they left; each working group's manager is asked to invite
    them again if they still care for the patient through their other facility."""
    reason = (reason or "").strip() or _("利用中止（退職等）")
    memberships = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(user=user, via_facility=facility, state__in=Membership.OPEN_STATES)
        .select_related("group", "group__manager", "group__facility", "user")
    )
    ask = _(
        "%(facility)s を通じて参加していたため外れました。他の事業所で引き続きこの方の"
        "支援に関わっている場合は、その事業所の職員として改めて招待してください。"
    ) % {"facility": facility.name}
    _end_and_tell(memberships, user=user, actor=actor, reason=reason, ask=ask)
    return len(memberships)


def _end_and_tell(memberships, *, user, actor, reason: str, ask: str = "") -> None:
    now = timezone.now()
    for membership in memberships:
        group = membership.group
        _end_membership(actor=actor, membership=membership, reason=reason, now=now)
        if not group.is_working:
            continue
        if group.manager_id == user.pk:
            _tell_admins_manager_missing(group)
        elif group.manager_id and group.manager_id != getattr(actor, "pk", None):
            notify(
                recipients=[group.manager],
                kind="groups.member_ended",
                title=_("%(name)s さんが「%(group)s」から外れました")
                % {"name": _name_of(user), "group": group.name},
                body="\n".join(filter(None, [_("理由: %(reason)s") % {"reason": reason}, ask])),
                url=group_url(group),
                reason=_("あなたがこのグループの管理者であるため"),
            )


# --- periodic jobs (called by tasks.py; each safe to run twice) -------------------------------


@transaction.atomic
def retention_erase_expired(*, now=None, batch: int = 500) -> dict:
    """別紙5 (3), 別紙6: once the purpose has ended and the retention period has passed, erase
    the personal data of (c) patients whose groups are all archived since before it, and of
    (a) patients whose consent ended (withdrawn, entered in error) before it and who have no
    working group. Set-based, at most `batch` patients a run; a second run finds nothing.

    Kept: the rows (so counts stay right), the group's kind/state/dates/reason, memberships and
    the audit trail (which never held the patient's name). Erased, by
    consents.services.patients_erase_everywhere and the receivers of its signal: the patient's
    details, the consents' scans and the family's names, the groups' names and notes, review
    notes and removal reasons, notifications that named or linked them, printed forms.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=NetworkSettings.load().retention_days)
    still_needed = (
        Group.objects.filter(kind=Group.Kind.PATIENT)
        .filter(~Q(state=GroupState.ARCHIVED) | Q(archived_at__gte=cutoff))
        .values("patient_id")
    )
    pending = Patient.objects.filter(erased_at__isnull=True).exclude(pk__in=still_needed)
    archived_long_ago = Group.objects.filter(
        kind=Group.Kind.PATIENT, state=GroupState.ARCHIVED, archived_at__lt=cutoff
    ).values("patient_id")
    # 第9条3項: a valid consent, or one that ended within the period, keeps the patient.
    consent_recent = Consent.objects.filter(
        active_consent_q()
        | Q(withdrawal_recorded_at__gte=cutoff)
        | Q(withdrawn_on__gte=timezone.localdate(cutoff))
        | Q(error_marked_at__gte=cutoff)
    ).values("patient_id")
    done = Counter()
    for reason, patients in (
        (ErasureReason.ARCHIVE_RETENTION, pending.filter(pk__in=archived_long_ago)),
        (
            ErasureReason.CONSENT_ENDED,
            pending.filter(consents__isnull=False)
            .exclude(pk__in=archived_long_ago)
            .exclude(pk__in=consent_recent)
            .distinct(),
        ),
    ):
        patient_ids = list(patients.order_by("pk").values_list("pk", flat=True)[:batch])
        if patient_ids:
            done.update(patients_erase_everywhere(patient_ids=patient_ids, reason=reason, now=now))
    return {key: done[key] for key in ERASURE_COUNTS}


# What an erasure run reports (every key, zero included, so that runs compare).
ERASURE_COUNTS = ("patients", "groups", "consents", "notifications", "documents")


def groups_erase_for_patients(*, patient_ids: list[int], actor=None, now=None) -> dict:
    """These patients' personal data was erased (consents' patients_erased signal, in its
    transaction): a working group is archived first (nothing is shared about a patient the
    portal no longer knows), then every group of theirs loses what named them — its name
    (「山田太郎さんのグループ」), description and notes, its review notes and removal reasons,
    the notifications that linked to it, the admin's history labels."""
    for group in (
        Group.objects.select_for_update(of=("self",))
        .select_related("facility")
        .filter(patient_id__in=patient_ids)
        .exclude(state=GroupState.ARCHIVED)
    ):
        if not group.end_reason:
            group.end_reason = Group.EndReason.OTHER
            group.end_reported_at = now
            group.end_reported_by = actor
        _archive(actor=actor, group=group)
    groups = Group.objects.filter(patient_id__in=patient_ids)
    group_ids = list(groups.values_list("pk", flat=True))
    if not group_ids:
        return {"groups": 0}
    count = groups.update(
        name=Concat(
            Value("患者グループ #"), Cast("pk", CharField()), Value("（個人情報削除済み）")
        ),
        end_note="",
        description="",
    )
    SupporterReview.objects.filter(group_id__in=group_ids).update(note="")
    PostDeletion.objects.filter(group_id__in=group_ids).update(note="")
    GroupAttestation.objects.filter(group_id__in=group_ids).update(resolution="")
    Membership.objects.filter(group_id__in=group_ids).update(end_reason="")
    notifications = notifications_scrub(
        links=map(link_by_pk("groups:detail"), group_ids),
        title="連携グループについての通知（個人情報削除済み）",
    )
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Group),
        object_id__in=[str(pk) for pk in group_ids],
    ).update(object_repr=Concat(Value("患者グループ #"), "object_id"))
    return {"groups": count, "notifications": notifications}


# How long past its deadline an overdue review is before the MCS administrator is told too.
REVIEW_ESCALATION_DAYS = 30


@transaction.atomic
def reminders_send(*, now=None) -> dict:
    """Overdue supporter reviews remind the manager, later the MCS administrator (留意事項 1);
    groups waiting too long for the archive remind the MCS administrator (留意事項 2). Each
    reminder carries a dedupe key, so running twice sends nothing twice.

    Set-based (a million groups): one query per kind of reminder and one for the MCS
    administrators concerned; send_notifications filters out the keys sent and writes in
    batches."""
    now = now or timezone.now()
    network = NetworkSettings.load()
    sent = send_notifications(
        chain(
            _review_overdue_reminders(now=now, network=network),
            _archive_overdue_reminders(now=now, network=network),
        )
    )
    return {
        "reviews": sent["groups.review_overdue"],
        "escalations": sent["groups.review_overdue_admin"],
        "archives": sent["groups.archive_overdue"],
    }


def _review_overdue_reminders(*, now, network) -> Iterator[Message]:
    clock = ReviewClock.at(now, interval_days=network.review_interval_days)
    escalate = dt.timedelta(days=REVIEW_ESCALATION_DAYS)
    overdue = reviewed_groups().filter(clock.state_q("overdue"), manager__isnull=False)
    # The MCS administrators of the facilities with a review overdue past the escalation.
    admins = role_holder_ids(
        overdue.filter(review_base__lt=clock.overdue_before - escalate).values("facility_id"),
        FacilityRole.Role.MCS_ADMIN,
    )
    # Translated once, not once per group.
    title = _("「%(group)s」のサポーター精査の期限が過ぎています")
    body = _("参加しているサポーターが適切か精査してください（留意事項1）。")
    reason = _("あなたがこのグループの管理者であるため")
    admin_title = _("「%(group)s」のサポーター精査が大幅に遅れています")
    admin_body = _("グループ管理者（%(name)s さん）に精査を促してください（留意事項1）。")
    admin_reason = _("あなたがこのグループを管理する事業所のMCS管理者であるため")
    review_url, handover_url = link_by_pk("groups:review"), link_by_pk("groups:handover")
    # Fetched whole, unordered: a server-side cursor (.iterator()) took three times as long on
    # the bench (PostgreSQL plans a cursor for its first rows, without parallel workers).
    rows = overdue.order_by().values_list(
        "pk",
        "name",
        "review_base",
        "facility_id",
        "manager_id",
        "manager__name",
        "manager__email",
        "kind",
        "facility__name",
    )
    for pk, name, base, facility_id, manager_id, manager_name, manager, kind, where in rows:
        due_at = clock.due_at(base)
        key = f"groups.review_overdue:{pk}:{due_at:%Y%m%d}"
        yield Message(
            recipient_id=manager_id,
            kind="groups.review_overdue",
            title=title % {"group": name},
            body=body,
            url=review_url(pk),
            reason=reason,
            dedupe_key=key,
        )
        if now > due_at + escalate:
            for admin_id in admins.get(facility_id, ()):
                yield Message(
                    recipient_id=admin_id,
                    kind="groups.review_overdue_admin",
                    # The administrator may not be in the team: the neutral label, no patient.
                    title=admin_title
                    % {"group": group_label(pk=pk, kind=kind, name=name, facility_name=where)},
                    body=admin_body % {"name": manager_name or manager},
                    url=handover_url(pk),
                    reason=admin_reason,
                    dedupe_key=f"{key}:admin",
                )


def _archive_overdue_reminders(*, now, network) -> Iterator[Message]:
    waiting = Group.objects.filter(
        state=GroupState.TO_BE_ARCHIVED,
        end_reported_at__lt=now - dt.timedelta(days=network.archive_deadline_days),
    )
    admins = role_holder_ids(waiting.values("facility_id"), FacilityRole.Role.MCS_ADMIN)
    title = _("「%(group)s」がアーカイブを待っています")
    body = _("利用を終了した患者のグループは速やかにアーカイブしてください（留意事項2）。")
    reason = _("あなたがこのグループを管理する事業所のMCS管理者であるため")
    archive_url = link_by_pk("groups:archive_group")
    rows = waiting.order_by().values_list("pk", "facility_id", "kind", "name", "facility__name")
    for pk, facility_id, kind, name, where in rows:
        label = group_label(pk=pk, kind=kind, name=name, facility_name=where)
        for admin_id in admins.get(facility_id, ()):
            yield Message(
                recipient_id=admin_id,
                kind="groups.archive_overdue",
                title=title % {"group": label},
                body=body,
                url=archive_url(pk),
                reason=reason,
                dedupe_key=f"groups.archive_overdue:{pk}",
            )


@transaction.atomic
def invitations_expire(*, now=None) -> int:
    """Invitations not answered within the network's period are cancelled (and the manager
    told once): an old invitation should not open a patient's group months later."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=NetworkSettings.load().invitation_expiry_days)
    expired = list(
        Membership.objects.select_for_update(of=("self",))
        .filter(state=State.INVITED, invited_at__lt=cutoff)
        .select_related("group", "group__manager", "user")
    )
    for membership in expired:
        _end_membership(actor=None, membership=membership, reason=_("招待の有効期限切れ"), now=now)
        if membership.group.is_working:
            notify(
                recipients=[membership.group.manager],
                kind="groups.invitation_expired",
                title=_("%(name)s さんへの「%(group)s」の招待が期限切れになりました")
                % {"name": _name_of(membership.user), "group": membership.group.name},
                url=group_url(membership.group),
                reason=_("あなたがこのグループの管理者であるため"),
                dedupe_key=f"groups.invitation_expired:{membership.pk}",
            )
    return len(expired)


# --- announcements (the all-users group, 基本設定 7 ①) ------------------------------------------


@transaction.atomic
def announcement_create(
    *,
    actor,
    title: str,
    body: str,
    audience: str = Announcement.Audience.ALL_USERS,
    publish_at=None,
) -> Announcement:
    if not (actor and (actor.is_center_staff or actor.is_superuser)):
        raise PermissionDenied
    announcement = Announcement.objects.create(
        title=title,
        body=body,
        audience=audience,
        publish_at=publish_at or timezone.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.ANNOUNCEMENT_CREATE,
        target=announcement,
        changes={"audience": audience, "publish_at": announcement.publish_at.isoformat()},
    )
    return announcement


@transaction.atomic
def announcement_mail_send(*, actor, announcement: Announcement) -> int:
    """利用開始までの流れ 7①: the center sends a published announcement by mail as well, to its
    audience, once. Each recipient gets a notification (the inbox row is the outbox of its
    mail, mcnet/outbox.py) keyed by the announcement, and the announcement records that it
    was mailed: a second press, or a second center staff member, sends nothing more."""
    if not (actor and (actor.is_center_staff or actor.is_superuser)):
        raise PermissionDenied
    announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if announcement.mailed_at is not None:
        raise ValidationError(
            _("このお知らせは %(date)s にメールで送信済みです。")
            % {"date": timezone.localtime(announcement.mailed_at).strftime("%Y-%m-%d %H:%M")},
            code="mailed",
        )
    if announcement.publish_at > timezone.now():
        raise ValidationError(
            _("公開日時の前のお知らせはメールで送れません。公開されてから送信してください。"),
            code="unpublished",
        )
    reason = (
        _("センターからMCS管理者へのお知らせのため")
        if announcement.audience == Announcement.Audience.MCS_ADMINS
        else _("センターから全ユーザーへのお知らせのため")
    )
    key = f"groups.announcement_mail:{announcement.pk}"
    sent = send_notifications(
        Message(
            recipient_id=pk,
            kind="groups.announcement_mail",
            title=announcement.title,
            body=announcement.body,
            url=reverse("groups:announcements"),
            reason=reason,
            dedupe_key=key,
        )
        for pk in announcement_recipients(announcement).values_list("pk", flat=True)
    )
    count = sent["groups.announcement_mail"]
    announcement.mailed_at, announcement.mailed_by = timezone.now(), actor
    announcement.mailed_count = count
    announcement.save(update_fields=["mailed_at", "mailed_by", "mailed_count"])
    audit_record(
        actor=actor,
        action=AuditAction.ANNOUNCEMENT_MAIL,
        target=announcement,
        changes={"audience": announcement.audience, "recipients": count},
    )
    return count


def announcement_mark_read(*, user, announcement: Announcement) -> None:
    # Reading is not an audited write: it changes no record of the network (as the inbox).
    AnnouncementRead.objects.get_or_create(announcement=announcement, user=user)


__all__ = [
    "ACCESS_GROUP",
    "MANAGE_GROUP",
    "announcement_create",
    "announcement_mail_send",
    "announcement_mark_read",
    "attestation_reminders_send",
    "group_archive",
    "group_attestation_record",
    "group_create_for_patient",
    "group_create_free",
    "group_discrepancy_resolve",
    "group_handover",
    "group_invitation_accept",
    "group_invitation_decline",
    "group_report_end",
    "groups_end_for_facility",
    "groups_end_for_patient",
    "groups_erase_for_patients",
    "invitations_expire",
    "membership_invite",
    "membership_leave",
    "membership_remove",
    "memberships_end_for_user",
    "patient_groups_follow_name",
    "post_deletion_record",
    "reminders_send",
    "retention_erase_expired",
    "staff_attestation_record",
    "staff_discrepancy_resolve",
    "supporter_review_record",
]


# --- 「あなたの支援チーム」 (別紙5 (2)) --------------------------------------------------------


@transaction.atomic
def team_notice_record(*, actor, group: Group) -> TeamNotice:
    """The team notice was printed for the patient and family: remember which team it told
    them of (facility ids and occupations), so the page can say when it is out of date."""
    if not team_notice_groups_for(actor).filter(pk=group.pk).exists():
        raise PermissionDenied
    notice = TeamNotice.objects.create(
        group=group, team=[list(pair) for pair in team_key(group)], printed_by=actor
    )
    _audit(actor, AuditAction.GROUP_TEAM_NOTICE, group, notice=notice.pk, size=len(notice.team))
    return notice
