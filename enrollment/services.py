"""Every write of the enrollment app: one transaction, one audit event, the people told.

利用開始までの流れ: 別紙1 + 別紙2 → the center accepts → 別紙3 → the center registers and tells
the facility 「一括登録を完了しました。各事業所で基本設定が可能です。」. 第4条2: 別紙4 for changes.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from facilities import selectors as facility_selectors
from facilities import services as facility_services
from facilities import signals as facility_signals
from facilities.models import Facility, FacilityMembership, FacilityRole, Invitation, User
from groups import selectors as group_selectors
from groups import services as group_services
from mcnet.audit import AuditAction, audit_record
from mcnet.jobs import enqueue_on_commit
from mcnet.models import NetworkSettings
from mcnet.notifications import notify
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force
from mcnet.services import model_update

from . import selectors, tasks
from .models import (
    APPLICATION_FIELDS,
    Application,
    ApplicationEvent,
    ChangeNotice,
    ChangeRow,
    RosterRequest,
    RosterRow,
)
from .rows import (
    CHANGE_COLUMNS,
    ROSTER_COLUMNS,
    RowsCheck,
    check_change_rows,
    check_roster_rows,
    person_key,
)

REGISTERED_MESSAGE = "一括登録を完了しました。各事業所で基本設定が可能です。"


class RowsInvalid(ValidationError):
    """A paper with an invalid row: nothing was saved. `check` holds every row's errors."""

    def __init__(self, check: RowsCheck):
        self.check = check
        super().__init__([str(e) for e in check.errors])


# --- 別紙1 / 別紙2: the application ---------------------------------------------------------------


def _event(application: Application, kind: str, message: str = "") -> ApplicationEvent:
    """Record a step and mail it to the applicant once the transaction commits."""
    event = ApplicationEvent.objects.create(application=application, kind=kind, message=message)
    enqueue_on_commit(tasks.send_application_mail, event.pk)
    return event


def _locked(model, obj):
    return model.objects.select_for_update().get(pk=obj.pk)


def _audit_changes(application: Application) -> dict:
    return {name: str(getattr(application, name)) for name in APPLICATION_FIELDS}


@transaction.atomic
def application_create(*, data: dict) -> Application:
    """The public form was sent: store it, and ask the applicant to confirm their address.

    The application reaches the center only once the address is confirmed (the link).
    """
    if not data.get("pledge_affirmed"):
        raise ValidationError(_("連携守秘誓約書（別紙2）への同意が必要です。"))
    pledge = version_in_force(Document.BESSHI2)
    application = Application.objects.create(
        **{name: data[name] for name in APPLICATION_FIELDS},
        pledge_affirmed=True,
        pledge_rule_version=pledge,
        pledge_version=pledge.effective_on.isoformat(),
    )
    audit_record(
        actor=None,
        action=AuditAction.ENROLLMENT_APPLICATION_CREATE,
        target=application,
        changes=_audit_changes(application),
    )
    _event(application, ApplicationEvent.Kind.CONFIRM_EMAIL)
    return application


@transaction.atomic
def application_confirm_email(*, application: Application) -> Application:
    """The applicant followed the link: the application now reaches the center (第4条)."""
    application = _locked(Application, application)
    if application.state != Application.State.UNCONFIRMED:
        return application  # a second click changes nothing
    now = timezone.now()
    application.state = Application.State.SUBMITTED
    application.email_confirmed_at = now
    application.submitted_at = now
    application.save(update_fields=["state", "email_confirmed_at", "submitted_at"])
    audit_record(
        actor=None,
        action=AuditAction.ENROLLMENT_APPLICATION_SUBMIT,
        target=application,
        changes={"manager_email": application.manager_email},
    )
    _event(application, ApplicationEvent.Kind.SUBMITTED)
    _tell_center(
        kind="enrollment.application_submitted",
        title=_("利用申込（別紙1・別紙2）が届きました: %(name)s")
        % {"name": application.facility_name},
        url=reverse("admin:enrollment_application_change", args=[application.pk]),
    )
    return application


@transaction.atomic
def applications_purge_unconfirmed(*, now=None) -> int:
    """Applications whose address was never confirmed, past the link's expiry, never reached
    the center: their personal data goes (a periodic job; a second run finds nothing)."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(days=selectors.CONFIRM_MAX_AGE_DAYS + 1)
    stale = Application.objects.filter(state=Application.State.UNCONFIRMED, created_at__lt=cutoff)
    ids = list(stale.values_list("pk", flat=True)[:1000])
    if not ids:
        return 0
    Application.objects.filter(pk__in=ids).delete()
    audit_record(
        actor=None,
        action=AuditAction.ENROLLMENT_APPLICATION_PURGE,
        object_type="enrollment.application",
        changes={"ids": ids, "reason": "unconfirmed"},
    )
    return len(ids)


@transaction.atomic
def application_resubmit(*, application: Application, data: dict) -> Application:
    """The applicant corrected an application the center returned."""
    application = _locked(Application, application)
    if application.state != Application.State.RETURNED:
        raise ValidationError(_("差し戻された申込だけを修正できます。"))
    if not data.get("pledge_affirmed"):
        raise ValidationError(_("連携守秘誓約書（別紙2）への同意が必要です。"))
    application, changed = model_update(
        instance=application,
        fields=APPLICATION_FIELDS,
        data={name: data[name] for name in APPLICATION_FIELDS},
    )
    # The pledge is affirmed again, in the wording in force now (第15条).
    application.pledge_rule_version = version_in_force(Document.BESSHI2)
    application.pledge_version = application.pledge_rule_version.effective_on.isoformat()
    # The address the center writes to must be the one the applicant reads (confirmed again
    # when it changed).
    email_changed = "manager_email" in changed
    application.state = (
        Application.State.UNCONFIRMED if email_changed else Application.State.SUBMITTED
    )
    application.submitted_at = None if email_changed else timezone.now()
    application.save()
    audit_record(
        actor=None,
        action=AuditAction.ENROLLMENT_APPLICATION_RESUBMIT,
        target=application,
        changes={"fields": changed},
    )
    if email_changed:
        _event(application, ApplicationEvent.Kind.CONFIRM_EMAIL)
        return application
    _event(application, ApplicationEvent.Kind.RESUBMITTED)
    _tell_center(
        kind="enrollment.application_resubmitted",
        title=_("差し戻した利用申込が修正されました: %(name)s")
        % {"name": application.facility_name},
        url=reverse("admin:enrollment_application_change", args=[application.pk]),
    )
    return application


@transaction.atomic
def application_attach_scan(*, application: Application, scan) -> Application:
    """The signed and sealed 別紙1/別紙2, scanned (checked by content by the form)."""
    application = _locked(Application, application)
    if application.state in (Application.State.UNCONFIRMED, Application.State.REJECTED):
        raise ValidationError(_("この申込には写しを送れません。"))
    old = application.scan.name if application.scan else ""
    application.scan.save(scan.name, scan, save=False)
    application.scan_uploaded_at = timezone.now()
    application.save(update_fields=["scan", "scan_uploaded_at"])
    audit_record(
        actor=None,
        action=AuditAction.ENROLLMENT_APPLICATION_SCAN,
        target=application,
        changes={"scan": application.scan.name, "replaced": old},
    )
    _event(application, ApplicationEvent.Kind.SCAN_UPLOADED)
    _tell_center(
        kind="enrollment.application_scan",
        title=_("利用申込の署名済みの写しが届きました: %(name)s")
        % {"name": application.facility_name},
        url=reverse("admin:enrollment_application_change", args=[application.pk]),
    )
    # Drop the replaced file only once the new one is committed.
    if old and old != application.scan.name:
        storage = application.scan.storage
        transaction.on_commit(lambda: storage.delete(old))
    return application


def _decide(application: Application, *, actor, state: str, reason: str, allowed) -> Application:
    if application.state not in allowed:
        raise ValidationError(
            _("「%(state)s」の申込にはこの操作はできません。")
            % {"state": application.get_state_display()}
        )
    application.state = state
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.decision_reason = reason
    return application


@transaction.atomic
def application_accept(*, actor, application: Application, reason: str = "") -> Facility:
    """The center accepts: the facility is created (active) and its manager is invited."""
    application = _locked(Application, application)
    _decide(
        application,
        actor=actor,
        state=Application.State.ACCEPTED,
        reason=reason,
        allowed=(Application.State.SUBMITTED,),
    )
    facility = facility_services.facility_create(
        actor=actor,
        name=application.facility_name,
        kind=application.kind,
        postal_code=application.postal_code,
        prefecture=application.prefecture,
        city=application.city,
        town=application.town,
        address_line=application.address_line,
        phone=application.phone,
        manager_name=application.manager_name,
        manager_email=application.manager_email,
        state=Facility.State.ACTIVE,
    )
    application.facility = facility
    application.save()
    _invite_facility_manager(actor=actor, application=application, facility=facility)
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_APPLICATION_ACCEPT,
        target=application,
        facility_id=facility.pk,
        changes={"facility": facility.pk, "reason": reason},
    )
    _event(application, ApplicationEvent.Kind.ACCEPTED, reason)
    return facility


def _invite_facility_manager(*, actor, application: Application, facility: Facility) -> None:
    """The manager who signed 別紙1/別紙2 is invited; the account is made when they accept
    the invitation, and `application_manager_joined` then makes them the facility manager."""
    existing = User.objects.filter(email=application.manager_email).first()
    if existing is not None and _is_member(existing, facility):
        _appoint_manager(actor=actor, user=existing, facility=facility)
        return
    facility_services.staff_invite(
        actor=actor,
        facility=facility,
        email=application.manager_email,
        name=application.manager_name,
    )


def _appoint_manager(*, actor, user: User, facility: Facility) -> None:
    facility_services.role_appoint(
        actor=actor, user=user, facility=facility, role=FacilityRole.Role.FACILITY_MANAGER
    )


@transaction.atomic
def invitation_accepted(*, invitation) -> None:
    """Someone accepted an invitation this app sent (signals.py), in the same transaction:

    - the applicant of 別紙1/別紙2 becomes the facility manager (事業所管理者) who signed them;
    - a 別紙3 participant's account gets what the paper said of them: gender and *2."""
    user = invitation.accepted_user
    if user is None:
        return
    application = (
        Application.objects.filter(
            facility_id=invitation.facility_id,
            state=Application.State.ACCEPTED,
            manager_email=invitation.email,
        )
        .select_related("decided_by", "facility")
        .first()
    )
    if application is not None:
        _appoint_manager(actor=application.decided_by, user=user, facility=application.facility)
    row = RosterRow.objects.filter(invitation=invitation).first()
    if row is not None:
        row.user = user
        row.save(update_fields=["user"])
        changes = {}
        if row.gender != "unspecified" and user.gender == "unspecified":
            changes["gender"] = row.gender
        if row.had_mcs_account and not user.had_mcs_account:
            changes["had_mcs_account"] = True
        if changes:
            User.objects.filter(pk=user.pk).update(**changes)
            audit_record(
                actor=None,
                action=AuditAction.ENROLLMENT_ROSTER_PROFILE,
                target=user,
                changes={**changes, "roster_row": row.pk},
            )


@transaction.atomic
def application_return(*, actor, application: Application, reason: str) -> Application:
    """Back to the applicant for correction, with what to correct."""
    if not reason.strip():
        raise ValidationError(_("差し戻す理由を入力してください。"))
    application = _locked(Application, application)
    _decide(
        application,
        actor=actor,
        state=Application.State.RETURNED,
        reason=reason,
        allowed=(Application.State.SUBMITTED,),
    )
    application.save()
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_APPLICATION_RETURN,
        target=application,
        changes={"reason": reason},
    )
    _event(application, ApplicationEvent.Kind.RETURNED, reason)
    return application


@transaction.atomic
def application_reject(*, actor, application: Application, reason: str) -> Application:
    if not reason.strip():
        raise ValidationError(_("却下する理由を入力してください。"))
    application = _locked(Application, application)
    _decide(
        application,
        actor=actor,
        state=Application.State.REJECTED,
        reason=reason,
        allowed=(Application.State.SUBMITTED, Application.State.RETURNED),
    )
    application.save()
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_APPLICATION_REJECT,
        target=application,
        changes={"reason": reason},
    )
    _event(application, ApplicationEvent.Kind.REJECTED, reason)
    return application


# --- 別紙3: bulk registration ---------------------------------------------------------------------


def _tell_center(*, kind: str, title: str, url: str, body: str = "") -> None:
    notify(
        recipients=facility_selectors.center_staff_users(),
        kind=kind,
        title=title,
        body=body,
        url=url,
        reason=_("センター職員として申込・届出を受け付けるため（運用規程 第4条）"),
    )


def _tell_facility(*, facility: Facility, extra=(), kind: str, title: str, body: str, url: str):
    notify(
        recipients=[*selectors.facility_signers(facility), *extra],
        kind=kind,
        title=title,
        body=body,
        url=url,
        reason=_("%(facility)s の事業所管理者・MCS管理者として届出を扱うため")
        % {"facility": facility.name},
    )


def _store_rows(model, parent: dict, check: RowsCheck, columns, *, with_user=False) -> None:
    """The checked rows of a paper, in one insert."""
    model.objects.bulk_create(
        model(
            **parent,
            row_number=row["row"],
            **{key: row[key] for key in columns},
            **({"user_id": row["user_id"]} if with_user else {}),
        )
        for row in check.clean_rows
    )


@transaction.atomic
def roster_submit(
    *,
    actor,
    facility: Facility,
    rows,
    source: str,
    representative_name: str = "",
    admin_count_confirmed: bool = False,
) -> RosterRequest:
    """Store a 別紙3 request, all rows or none (any invalid row: RowsInvalid, nothing saved)."""
    # Serialize submissions of one facility, so two clerks cannot list one address twice.
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    check = check_roster_rows(rows)
    if not check.is_valid:
        raise RowsInvalid(check)
    if check.warnings and not admin_count_confirmed and source != RosterRequest.Source.COMMAND:
        raise ValidationError(
            [*check.warnings, _("MCS管理者の人数を確認したら、確認欄に印を付けてください。")]
        )
    request = RosterRequest.objects.create(
        facility=facility,
        representative_name=representative_name or facility.manager_name,
        source=source,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        admin_count_warning=" ".join(check.warnings)[:200],
        admin_count_confirmed=bool(check.warnings) and admin_count_confirmed,
        rules_version=version_in_force(Document.RULES),
    )
    _store_rows(RosterRow, {"request": request}, check, ROSTER_COLUMNS)
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_ROSTER_SUBMIT,
        target=request,
        facility_id=facility.pk,
        changes={
            "rows": len(check.rows),
            "source": source,
            "emails": [r["email"] for r in check.clean_rows],
            "warning": request.admin_count_warning,
        },
    )
    _tell_center(
        kind="enrollment.roster_submitted",
        title=_("一括登録代行申込（別紙3）が届きました: %(name)s（%(n)d名）")
        % {"name": facility.name, "n": len(check.rows)},
        url=reverse("admin:enrollment_rosterrequest_change", args=[request.pk]),
    )
    return request


def _conflicting_rows(rows) -> list[str]:
    """Rows whose address another person took since the facility sent the paper."""
    rows = list(rows)
    taken = dict(
        User.objects.filter(email__in=[r.email for r in rows]).values_list("email", "name")
    )
    problems = []
    for row in rows:
        name = taken.get(row.email)
        if name and person_key(name) != person_key(row.name):
            problems.append(
                _(
                    "%(row)d行目・MCS ID（メールアドレス）: %(email)s はネットワーク内で別の方が使っています。"
                )
                % {"row": row.row_number, "email": row.email}
            )
    return problems


def _invite_row(*, actor, facility: Facility, email, name, kana="", occupation="", is_admin=False):
    """Create or link the account and send the invitation (facilities.services.staff_invite).

    Returns (invitation or None, existing account or None). Someone already working at the
    facility is only linked (and made MCS administrator when the row says so); someone with an
    invitation pending there keeps it, re-sent as administrator when the row asks for that."""
    existing = User.objects.filter(email=email).first()
    if existing is not None and _is_member(existing, facility):
        if is_admin:
            facility_services.role_appoint(
                actor=actor,
                user=existing,
                facility=facility,
                role=FacilityRole.Role.MCS_ADMIN,
                via_notice=True,
            )
        return None, existing
    pending = Invitation.objects.filter(
        facility=facility, email=email, state=Invitation.State.PENDING
    ).first()
    if pending is not None:
        if not is_admin or pending.is_mcs_admin:
            return pending, existing
        facility_services.invitation_revoke(actor=actor, invitation=pending)
    invitation = facility_services.staff_invite(
        actor=actor,
        facility=facility,
        email=email,
        name=name,
        kana=kana,
        occupation=occupation,
        is_mcs_admin=is_admin,
    )
    return invitation, existing


@transaction.atomic
def roster_register(*, actor, roster_request: RosterRequest) -> RosterRequest:
    """The center registered the rows (with the MCS vendor): accounts, invitations, the
    all-users group, and the facility is told it can start its basic settings (基本設定)."""
    roster_request = _locked(RosterRequest, roster_request)
    if roster_request.state != RosterRequest.State.SUBMITTED:
        raise ValidationError(
            _("「%(state)s」の申込は登録できません。")
            % {"state": roster_request.get_state_display()}
        )
    facility = roster_request.facility
    rows = list(roster_request.rows.all())
    if problems := _conflicting_rows(rows):
        raise ValidationError(problems)
    invited = []
    for row in rows:
        try:
            row.invitation, row.user = _invite_row(
                actor=actor,
                facility=facility,
                email=row.email,
                name=row.name,
                occupation=row.occupation,
                is_admin=row.is_mcs_admin,
            )
        except ValidationError as exc:
            raise ValidationError(
                _("%(row)d行目（%(email)s）: %(message)s")
                % {"row": row.row_number, "email": row.email, "message": " ".join(exc.messages)}
            ) from exc
        invited.append(row.email)
    RosterRow.objects.bulk_update(rows, ["invitation", "user"])
    _all_users_group_ready()
    roster_request.state = RosterRequest.State.REGISTERED
    roster_request.decided_at = timezone.now()
    roster_request.decided_by = actor
    roster_request.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_ROSTER_REGISTER,
        target=roster_request,
        facility_id=facility.pk,
        changes={"invited": invited},
    )
    # 利用開始までの流れ 2 ④: the center's own words.
    _tell_facility(
        facility=facility,
        extra=[roster_request.submitted_by],
        kind="enrollment.roster_registered",
        title=REGISTERED_MESSAGE,
        body=_(
            "%(facility)s の一括登録代行申込（別紙3、%(n)d名）の登録が完了しました。"
            "各利用者に招待メールをお送りしました。基本設定を開始してください。"
        )
        % {"facility": facility.name, "n": len(rows)},
        url=reverse("enrollment:roster_detail", args=[roster_request.pk]),
    )
    return roster_request


def _all_users_group_ready() -> None:
    """利用開始までの流れ 7 ①: everyone is in the all-users group. The groups app defines its
    membership as "every active user", so an account joins it by existing; the group itself
    is made sure of here, before the first participant signs in."""
    group_selectors.all_users_group()


def _return_paper(paper, *, actor, reason: str, action: AuditAction):
    """Back to the facility with the center's reason (別紙3 and 別紙4 alike)."""
    if not reason.strip():
        raise ValidationError(_("差し戻す理由を入力してください。"))
    paper = _locked(type(paper), paper)
    if paper.state != paper.State.SUBMITTED:
        raise ValidationError(_("センターの処理待ちのものだけを差し戻せます。"))
    paper.state = paper.State.RETURNED
    paper.decided_at = timezone.now()
    paper.decided_by = actor
    paper.decision_reason = reason
    paper.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
    audit_record(actor=actor, action=action, target=paper, changes={"reason": reason})
    return paper


@transaction.atomic
def roster_return(*, actor, roster_request: RosterRequest, reason: str) -> RosterRequest:
    roster_request = _return_paper(
        roster_request, actor=actor, reason=reason, action=AuditAction.ENROLLMENT_ROSTER_RETURN
    )
    _tell_facility(
        facility=roster_request.facility,
        extra=[roster_request.submitted_by],
        kind="enrollment.roster_returned",
        title=_("一括登録代行申込（別紙3）が差し戻されました"),
        body=reason,
        url=reverse("enrollment:roster_detail", args=[roster_request.pk]),
    )
    return roster_request


# --- 別紙4: changes and stopping ----------------------------------------------------------------


def _notice_create(*, actor, facility, kind, signer_name, reason="", scan=None) -> ChangeNotice:
    notice = ChangeNotice.objects.create(
        facility=facility,
        kind=kind,
        signer_name=signer_name or facility.manager_name,
        reason=reason,
        submitted_by=actor,
    )
    if scan is not None:
        notice.scan.save(scan.name, scan, save=True)
    return notice


@transaction.atomic
def notice_submit(
    *, actor, facility: Facility, rows, signer_name: str = "", scan=None
) -> ChangeNotice:
    """別紙4 additions and deletions; all rows or none (RowsInvalid)."""
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    check = check_change_rows(rows, facility=facility)
    if not check.is_valid:
        raise RowsInvalid(check)
    notice = _notice_create(
        actor=actor,
        facility=facility,
        kind=ChangeNotice.Kind.CHANGE,
        signer_name=signer_name,
        scan=scan,
    )
    _store_rows(ChangeRow, {"notice": notice}, check, CHANGE_COLUMNS, with_user=True)
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_NOTICE_SUBMIT,
        target=notice,
        facility_id=facility.pk,
        changes={"rows": [f"{r['action']}:{r['email']}" for r in check.clean_rows]},
    )
    _tell_center(
        kind="enrollment.notice_submitted",
        title=_("利用登録変更届（別紙4）が届きました: %(name)s") % {"name": facility.name},
        url=reverse("admin:enrollment_changenotice_change", args=[notice.pk]),
    )
    return notice


@transaction.atomic
def notice_stop_submit(
    *, actor, facility: Facility, reason: str, signer_name: str = "", scan=None
) -> ChangeNotice:
    """別紙4: the facility stops using the network altogether."""
    if not reason.strip():
        raise ValidationError(_("中止の理由を入力してください。"))
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    if ChangeNotice.objects.filter(
        facility=facility, kind=ChangeNotice.Kind.STOP, state=ChangeNotice.State.SUBMITTED
    ).exists():
        raise ValidationError(_("この事業所の利用中止届は既に提出されています。"))
    notice = _notice_create(
        actor=actor,
        facility=facility,
        kind=ChangeNotice.Kind.STOP,
        signer_name=signer_name,
        reason=reason,
        scan=scan,
    )
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_NOTICE_STOP_SUBMIT,
        target=notice,
        facility_id=facility.pk,
        changes={"reason": reason},
    )
    _tell_center(
        kind="enrollment.notice_submitted",
        title=_("利用中止届（別紙4）が届きました: %(name)s") % {"name": facility.name},
        url=reverse("admin:enrollment_changenotice_change", args=[notice.pk]),
    )
    return notice


# --- 別紙4 lines from the portal's own changes (第4条2) ------------------------------------------


def _made_by_center(*, actor, invitation) -> bool:
    """The center made the change (or confirmed the paper that asked for it), or the system
    did (the demo, a command): its record is already the center's."""
    if actor is None or getattr(actor, "is_center_staff", False):
        return True
    if invitation is None:
        return False
    inviter = invitation.created_by
    if inviter is None or inviter.is_center_staff:
        return True
    return (
        RosterRow.objects.filter(invitation=invitation).exists()
        or ChangeRow.objects.filter(invitation=invitation, done_at__isnull=True).exists()
    )


def _open_notice(*, facility: Facility) -> tuple[ChangeNotice, bool]:
    """The facility's draft 別紙4, made when the first change of the period comes."""
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    notice = ChangeNotice.objects.filter(facility=facility, state=ChangeNotice.State.DRAFT).first()
    if notice is not None:
        return notice, False
    notice = ChangeNotice.objects.create(
        facility=facility,
        kind=ChangeNotice.Kind.CHANGE,
        state=ChangeNotice.State.DRAFT,
        signer_name=facility.manager_name,
    )
    return notice, True


LINE_NOTES = {
    facility_signals.ADMIN_APPOINTED: "MCS管理者に任命",
    facility_signals.ADMIN_RELIEVED: "MCS管理者を解任",
}


@transaction.atomic
def notice_line_record(
    *,
    actor,
    facility: Facility,
    user: User,
    change: str,
    invitation=None,
    reason: str = "",
    roles=(),
) -> ChangeRow | None:
    """A change of `facility`'s staff made in the portal becomes a line of its open 別紙4
    (第4条2): nothing made in the portal bypasses the center's record. Returns the line, or
    None when the center's record already holds it."""
    if change not in facility_signals.STAFF_CHANGES:
        raise ValueError(change)
    if _made_by_center(actor=actor, invitation=invitation):
        return None
    notice, created = _open_notice(facility=facility)
    # A removed person's 管理者 mark is the role they held until then.
    is_admin = FacilityRole.Role.MCS_ADMIN in roles or (
        FacilityRole.objects.filter(
            user=user, facility=facility, role=FacilityRole.Role.MCS_ADMIN
        ).exists()
    )
    now = timezone.now()
    if change in (facility_signals.ADMIN_APPOINTED, facility_signals.ADMIN_RELIEVED):
        # Joined in this period: the 追加 line carries the 管理者 mark itself.
        added = notice.rows.filter(
            user=user, action=ChangeRow.Action.ADD, done_at__isnull=False
        ).last()
        if added is not None:
            added.is_mcs_admin = is_admin
            added.save(update_fields=["is_mcs_admin"])
            audit_record(
                actor=actor,
                action=AuditAction.ENROLLMENT_NOTICE_LINE_UPDATE,
                target=notice,
                facility_id=facility.pk,
                changes={"row": added.pk, "is_mcs_admin": is_admin},
            )
            return added
    action = {
        facility_signals.STAFF_ADDED: ChangeRow.Action.ADD,
        facility_signals.STAFF_REMOVED: ChangeRow.Action.DELETE,
    }.get(change, ChangeRow.Action.CHANGE)
    last = notice.rows.order_by("-row_number").values_list("row_number", flat=True).first()
    row = ChangeRow.objects.create(
        notice=notice,
        row_number=(last or 0) + 1,
        action=action,
        kana=user.kana,
        name=user.name,
        occupation=user.occupation,
        email=user.email,
        is_mcs_admin=is_admin,
        user=user,
        invitation=invitation,
        done_at=now,
        done_by=actor if getattr(actor, "is_authenticated", False) else None,
        note=(str(LINE_NOTES.get(change, "")) or reason)[:300],
    )
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_NOTICE_LINE_RECORD,
        target=notice,
        facility_id=facility.pk,
        changes={"row": row.pk, "action": action, "user": user.pk, "change": change},
    )
    if created:
        _tell_facility(
            facility=facility,
            kind="enrollment.notice_draft_opened",
            title=_("職員の変更を利用登録変更届（別紙4）に記録しました: %(name)s")
            % {"name": facility.name},
            body=_(
                "ポータルで行った職員の追加・削除・管理者の変更は、センターへの変更届（別紙4）"
                "の行になります。内容を確認して提出してください。%(days)d日を過ぎると自動で"
                "提出されます（第4条2）。"
            )
            % {"days": NetworkSettings.load().change_notice_auto_submit_days},
            url=reverse("enrollment:notice_detail", args=[notice.pk]),
        )
    return row


def _notice_send(*, actor, notice: ChangeNotice, auto: bool, signer_name: str = "") -> None:
    was = notice.state
    notice.state = ChangeNotice.State.SUBMITTED
    notice.notice_date = timezone.localdate()
    notice.submitted_at = timezone.now()
    notice.auto_submitted = auto
    notice.signer_name = (signer_name or "").strip()[:100] or notice.facility.manager_name
    if actor is not None:
        notice.submitted_by = actor
    notice.save(
        update_fields=[
            "state",
            "notice_date",
            "submitted_at",
            "auto_submitted",
            "signer_name",
            "submitted_by",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_NOTICE_AUTO_SUBMIT
        if auto
        else AuditAction.ENROLLMENT_NOTICE_SUBMIT,
        target=notice,
        facility_id=notice.facility_id,
        changes={"from": was, "rows": notice.rows.count(), "auto": auto},
    )
    _tell_center(
        kind="enrollment.notice_submitted",
        title=_("利用登録変更届（別紙4）が届きました: %(name)s") % {"name": notice.facility.name},
        url=reverse("admin:enrollment_changenotice_change", args=[notice.pk]),
    )


@transaction.atomic
def notice_draft_submit(*, actor, notice: ChangeNotice, signer_name: str = "") -> ChangeNotice:
    """The facility sends its open 別紙4 (the portal's changes) to the center in one action;
    a returned one is sent again the same way."""
    notice = _locked(ChangeNotice, notice)
    if notice.state not in (ChangeNotice.State.DRAFT, ChangeNotice.State.RETURNED):
        raise ValidationError(_("この届出は既に提出されています。"))
    if not notice.rows.exists():
        raise ValidationError(_("届け出る行がありません。"))
    _notice_send(actor=actor, notice=notice, auto=False, signer_name=signer_name)
    return notice


@transaction.atomic
def notices_submit_overdue_drafts(*, now=None) -> int:
    """第4条2: a draft whose first line is the network's number of days old goes to the center
    by itself (a periodic job; a second run finds nothing to send)."""
    now = now or timezone.now()
    days = NetworkSettings.load().change_notice_auto_submit_days
    cutoff = now - dt.timedelta(days=days)
    overdue = ChangeNotice.objects.filter(
        state=ChangeNotice.State.DRAFT,
        pk__in=ChangeRow.objects.filter(done_at__lte=cutoff).values("notice_id"),
    )
    sent = 0
    for notice in overdue.select_for_update(skip_locked=True, of=("self",)).select_related(
        "facility"
    ):
        _notice_send(actor=None, notice=notice, auto=True)
        _tell_facility(
            facility=notice.facility,
            kind="enrollment.notice_auto_submitted",
            title=_("利用登録変更届（別紙4）を自動で提出しました: %(name)s")
            % {"name": notice.facility.name},
            body=_("最初の変更から%(days)d日が過ぎたため、センターへ提出しました（第4条2）。")
            % {"days": days},
            url=reverse("enrollment:notice_detail", args=[notice.pk]),
        )
        sent += 1
    return sent


@transaction.atomic
def notice_confirm(*, actor, notice: ChangeNotice) -> ChangeNotice:
    """The center confirms a 別紙4: additions are invited, deletions deactivated (and leave
    every group); a stopping facility's users all leave and its groups go to be archived."""
    notice = _locked(ChangeNotice, notice)
    if notice.state != ChangeNotice.State.SUBMITTED:
        raise ValidationError(_("確認待ちの届出だけを処理できます。"))
    facility = notice.facility
    done: list[str] = []
    if notice.kind == ChangeNotice.Kind.STOP:
        done = _stop_facility(actor=actor, facility=facility, notice=notice)
    else:
        rows = list(notice.rows.all())
        requested = [r for r in rows if r.done_at is None and r.action == ChangeRow.Action.ADD]
        if problems := _conflicting_rows(requested):
            raise ValidationError(problems)
        for row in rows:
            if row.done_at is not None:
                # Made in the portal already: the center records it, and does it not twice.
                done.append(f"recorded:{row.action}:{row.email}")
            elif row.action == ChangeRow.Action.ADD:
                row.invitation, row.user = _invite_row(
                    actor=actor,
                    facility=facility,
                    email=row.email,
                    name=row.name,
                    kana=row.kana,
                    occupation=row.occupation,
                    is_admin=row.is_mcs_admin,
                )
                done.append(f"add:{row.email}")
            elif row.action == ChangeRow.Action.DELETE:
                user = row.user or User.objects.filter(email=row.email).first()
                if user is not None and _is_member(user, facility):
                    facility_services.staff_deactivate(
                        actor=actor,
                        user=user,
                        facility=facility,
                        reason=_("利用登録変更届（別紙4）による削除"),
                        via_notice=True,
                    )
                    done.append(f"delete:{row.email}")
                row.user = user
        ChangeRow.objects.bulk_update(rows, ["invitation", "user"])
        _all_users_group_ready()
    notice.state = ChangeNotice.State.CONFIRMED
    notice.decided_at = timezone.now()
    notice.decided_by = actor
    notice.save(update_fields=["state", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action=AuditAction.ENROLLMENT_NOTICE_CONFIRM,
        target=notice,
        facility_id=facility.pk,
        changes={"done": done, "kind": notice.kind},
    )
    _tell_facility(
        facility=facility,
        extra=[notice.submitted_by],
        kind="enrollment.notice_confirmed",
        title=_("利用登録変更・中止届（別紙4）を処理しました"),
        body=_("%(facility)s の届出（%(date)s）をセンターが確認し、処理しました。")
        % {"facility": facility.name, "date": notice.notice_date},
        url=reverse("enrollment:notice_detail", args=[notice.pk]),
    )
    return notice


@transaction.atomic
def notice_return(*, actor, notice: ChangeNotice, reason: str) -> ChangeNotice:
    notice = _return_paper(
        notice, actor=actor, reason=reason, action=AuditAction.ENROLLMENT_NOTICE_RETURN
    )
    _tell_facility(
        facility=notice.facility,
        extra=[notice.submitted_by],
        kind="enrollment.notice_returned",
        title=_("利用登録変更・中止届（別紙4）が差し戻されました"),
        body=reason,
        url=reverse("enrollment:notice_detail", args=[notice.pk]),
    )
    return notice


def _is_member(user: User, facility: Facility) -> bool:
    return FacilityMembership.objects.filter(user=user, facility=facility, is_active=True).exists()


def _stop_facility(*, actor, facility: Facility, notice: ChangeNotice) -> list[str]:
    # Tell the signers before they lose their accounts (notify skips inactive users).
    _tell_facility(
        facility=facility,
        extra=[notice.submitted_by],
        kind="enrollment.facility_stopped",
        title=_("%(facility)s のMCネット利用中止を受け付けました") % {"facility": facility.name},
        body=_("利用者の登録を中止し、事業所の連携グループをアーカイブします。"),
        url="",
    )
    _archive_groups_of(actor=actor, facility=facility, reason=notice.reason)
    done = []
    members = User.objects.filter(
        memberships__facility=facility, memberships__is_active=True
    ).distinct()
    for user in members:
        facility_services.staff_deactivate(
            actor=actor,
            user=user,
            facility=facility,
            reason=_("事業所の利用中止（別紙4）"),
            via_notice=True,
        )
        done.append(f"delete:{user.email}")
    facility_services.facility_set_state(
        actor=actor,
        facility=facility,
        state=Facility.State.WITHDRAWN,
        note=_("利用中止届（別紙4）による"),
    )
    return done


def _archive_groups_of(*, actor, facility: Facility, reason: str) -> None:
    """留意事項 2: the facility's groups are archived (nobody of it is left to do so)."""
    group_services.groups_end_for_facility(
        actor=actor,
        facility=facility,
        note=_("事業所の利用中止（別紙4）: %(reason)s") % {"reason": reason},
    )
