"""The audit trail: `audit_record` is called by services, inside their transaction.

Tamper-evident: each event stores the hash of the one before it and its own hash over its
content, so an edited or deleted row breaks the chain (`manage.py verify_audit` finds where).
Events are chained in id order under one lock, held until the writing transaction commits.

The access log of patient data is the exception: every opening of a patient's page would
queue every reader behind that one lock. `access_log_append` writes it as a plain INSERT into
AuditPending (no lock), and the periodic job (`mcnet.tasks.seal_access_log`, every
ACCESS_LOG_SEAL_SECONDS) seals the pending records into the chain with `access_log_seal`, in id
order, in batches, each batch once. Until sealed a record is in the trail readers see
(AuditTrail) but not tamper-evident; once sealed it is an AuditEvent like any other.
"""

import functools
import hashlib
import json
from contextvars import ContextVar
from enum import StrEnum, unique

from django.db import connection, models, transaction
from django.utils import timezone

from .models import AuditEvent, AuditPending

GENESIS = "0" * 64

# Where the current request came from; set by RequestContextMiddleware, empty in tasks/commands.
current_ip: ContextVar[str | None] = ContextVar("mcnet_current_ip", default=None)


@unique
class AuditAction(StrEnum):
    """Every action the trail records. The values are stored and hashed (`event_hash`): never
    change one; add a member for a new action. `audit_record` refuses any other string."""

    # facilities (第4–7条)
    FACILITY_CREATE = "facility.create"
    FACILITY_UPDATE = "facility.update"
    FACILITY_STATE = "facility.state"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_PROFILE_UPDATE = "user.profile_update"
    USER_PASSWORD_RESET_LINK = "user.password_reset_link"  # noqa: S105 (an action's name)
    USER_CENTER_STAFF_ADD = "user.center_staff_add"
    USER_CENTER_STAFF_REMOVE = "user.center_staff_remove"
    USER_RETURN = "user.return"
    USER_RESTRICT = "user.restrict"
    USER_REINSTATE = "user.reinstate"
    MEMBERSHIP_ADD = "membership.add"
    ROLE_APPOINT = "role.appoint"
    ROLE_RELIEVE = "role.relieve"
    INVITATION_CREATE = "invitation.create"
    INVITATION_RESEND = "invitation.resend"
    INVITATION_REVOKE = "invitation.revoke"
    INVITATION_ROLE_NOT_APPOINTED = "invitation.role_not_appointed"
    INVITATION_ACCEPT = "invitation.accept"
    STAFF_DEACTIVATE = "staff.deactivate"
    PLEDGE_RECORD = "pledge.record"
    PLEDGE_CORRECT = "pledge.correct"
    PLEDGE_CONFIRM = "pledge.confirm"
    EDUCATION_CREATE = "education.create"
    EDUCATION_UPDATE = "education.update"

    # the access log (第11条)
    AUTH_LOGIN = "auth.login"
    AUTH_LOGOUT = "auth.logout"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105 (an action's name)
    AUTH_PASSWORD_SET = "auth.password_set"  # noqa: S105 (an action's name)
    AUTH_PASSWORD_RESET = "auth.password_reset"  # noqa: S105 (an action's name)
    AUTH_MFA_ADDED = "auth.mfa_added"
    AUTH_MFA_REMOVED = "auth.mfa_removed"

    # consents (第9条, 別紙5–7)
    PATIENT_REGISTER = "patient.register"
    PATIENT_UPDATE = "patient.update"
    PATIENT_OPEN_RECORD = "patient.open_record"
    PATIENT_VIEW = "patient.view"
    PATIENT_ERASE = "patient.erase"
    RETENTION_ERASE = "retention.erase"
    CONSENT_RECORD = "consent.record"
    CONSENT_COVER_FACILITIES = "consent.cover_facilities"
    CONSENT_ADDENDUM_PREPARE = "consent.addendum_prepare"
    CONSENT_ADDENDUM_SIGNED = "consent.addendum_signed"
    CONSENT_ADDENDUM_CANCEL = "consent.addendum_cancel"
    CONSENT_WITHDRAW = "consent.withdraw"
    CONSENT_ENTERED_IN_ERROR = "consent.entered_in_error"
    ACADEMIC_CONSENT_RECORD = "academic_consent.record"
    ACADEMIC_CONSENT_WITHDRAW = "academic_consent.withdraw"
    PATIENT_REQUEST_RECEIVE = "patient_request.receive"
    PATIENT_REQUEST_VERIFY_IDENTITY = "patient_request.verify_identity"
    PATIENT_REQUEST_START = "patient_request.start"
    PATIENT_REQUEST_ERASE = "patient_request.erase"
    PATIENT_REQUEST_CLOSE = "patient_request.close"
    PATIENT_REQUEST_REMIND_OVERDUE = "patient_request.remind_overdue"

    # groups (第8条, 留意事項 1–4)
    GROUP_CREATE = "group.create"
    GROUP_HANDOVER = "group.handover"
    GROUP_REVIEW = "group.review"
    GROUP_POST_DELETION = "group.post_deletion"
    GROUP_REPORT_END = "group.report_end"
    GROUP_REPORT_END_UNDO = "group.report_end_undo"
    GROUP_ARCHIVE = "group.archive"
    GROUP_TEAM_NOTICE = "group.team_notice"
    MEMBERSHIP_INVITE = "membership.invite"
    MEMBERSHIP_ACCEPT = "membership.accept"
    MEMBERSHIP_DECLINE = "membership.decline"
    MEMBERSHIP_CANCELLED = "membership.cancelled"
    MEMBERSHIP_REMOVED = "membership.removed"
    MEMBERSHIP_LEAVE = "membership.leave"
    ATTESTATION_STAFF = "attestation.staff"
    ATTESTATION_STAFF_RESOLVE = "attestation.staff_resolve"
    ATTESTATION_GROUP = "attestation.group"
    ATTESTATION_GROUP_RESOLVE = "attestation.group_resolve"
    ANNOUNCEMENT_CREATE = "announcement.create"
    ANNOUNCEMENT_MAIL = "announcement.mail"
    REMINDERS_RUN = "reminders.run"

    # enrollment (別紙1–4)
    ENROLLMENT_APPLICATION_CREATE = "enrollment.application.create"
    ENROLLMENT_APPLICATION_SUBMIT = "enrollment.application.submit"
    ENROLLMENT_APPLICATION_RESUBMIT = "enrollment.application.resubmit"
    ENROLLMENT_APPLICATION_SCAN = "enrollment.application.scan"
    ENROLLMENT_APPLICATION_ACCEPT = "enrollment.application.accept"
    ENROLLMENT_APPLICATION_RETURN = "enrollment.application.return"
    ENROLLMENT_APPLICATION_REJECT = "enrollment.application.reject"
    ENROLLMENT_APPLICATION_PURGE = "enrollment.application.purge"
    ENROLLMENT_ROSTER_PROFILE = "enrollment.roster.profile"
    ENROLLMENT_ROSTER_SUBMIT = "enrollment.roster.submit"
    ENROLLMENT_ROSTER_REGISTER = "enrollment.roster.register"
    ENROLLMENT_ROSTER_RETURN = "enrollment.roster.return"
    ENROLLMENT_ROSTER_EXPORT = "enrollment.roster.export"
    ENROLLMENT_NOTICE_SUBMIT = "enrollment.notice.submit"
    ENROLLMENT_NOTICE_AUTO_SUBMIT = "enrollment.notice.auto_submit"
    ENROLLMENT_NOTICE_STOP_SUBMIT = "enrollment.notice.stop_submit"
    ENROLLMENT_NOTICE_LINE_UPDATE = "enrollment.notice.line_update"
    ENROLLMENT_NOTICE_LINE_RECORD = "enrollment.notice.line_record"
    ENROLLMENT_NOTICE_CONFIRM = "enrollment.notice.confirm"
    ENROLLMENT_NOTICE_RETURN = "enrollment.notice.return"

    # devices (第12条, 留意事項 4)
    DEVICE_REGISTER = "device.register"
    DEVICE_UPDATE = "device.update"
    DEVICE_CHECKLIST_CONFIRM = "device.checklist_confirm"
    DEVICE_STATE = "device.state"
    DEVICE_LEAVER_OPEN = "device.leaver_open"
    DEVICE_LEAVER_CONFIRM = "device.leaver_confirm"
    TAKEOUT_FILE = "takeout.file"
    TAKEOUT_APPROVE = "takeout.approve"
    TAKEOUT_REJECT = "takeout.reject"
    TAKEOUT_RETURN = "takeout.return"
    TAKEOUT_WITHDRAW = "takeout.withdraw"
    LOSS_REPORT = "loss.report"
    LOSS_ACKNOWLEDGE = "loss.acknowledge"
    LOSS_CLOSE = "loss.close"
    INCIDENT_REPORT = "incident.report"
    INCIDENT_ACKNOWLEDGE = "incident.acknowledge"
    INCIDENT_NOTE = "incident.note"
    INCIDENT_ESCALATE = "incident.escalate"
    INCIDENT_CLOSE = "incident.close"
    INCIDENT_RESTRICT = "incident.restrict"
    PRIVACY_LEAK_MARK = "privacy_leak.mark"
    PRIVACY_LEAK_REPORT_DRAFT = "privacy_leak.report_draft"
    PRIVACY_LEAK_PRELIMINARY_REPORT = "privacy_leak.preliminary_report"
    PRIVACY_LEAK_FINAL_REPORT = "privacy_leak.final_report"
    PRIVACY_LEAK_PERSONS_NOTIFIED = "privacy_leak.persons_notified"

    # printing, rulebook, dashboard, the audit log, the admin
    DOCUMENT_REQUEST = "document.request"
    DOCUMENT_RETRY = "document.retry"
    DOCUMENT_DOWNLOAD = "document.download"
    RULEBOOK_PUBLISH = "rulebook.publish"
    DASHBOARD_REPORT = "dashboard.report"
    AUDIT_EXPORT = "audit.export"
    ADMIN_ADD = "admin.add"
    ADMIN_CHANGE = "admin.change"
    ADMIN_DELETE = "admin.delete"
    ADMIN_EXPORT = "admin.export"


# Actions written through access_log_append: reads of patient data, which change nothing, so
# their event need not be chained in the reader's own transaction (第11条: the access log).
DEFERRED_ACTIONS = frozenset({AuditAction.PATIENT_VIEW})
# Pending records sealed in one transaction (the chain's lock is held for one batch at a time,
# so the services' writes wait at most one batch).
SEAL_BATCH = 500


def _event_fields(*, actor, action, target, object_type, object_id, facility_id, changes) -> dict:
    """Who, what, which object, when, from where: the columns of an event (or pending record)."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        if facility_id is None:
            facility_id = getattr(target, "facility_id", None)
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    return {
        "created_at": timezone.now(),
        "actor": actor if is_person else None,
        "actor_label": actor.email if is_person else "system",
        "action": action.value,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "object_repr": str(target)[:200] if target is not None else "",
        "facility_id": facility_id,
        "changes": json.loads(json.dumps(changes or {}, default=str)),
        "ip_address": current_ip.get(),
    }


def audit_record(
    *,
    actor,
    action: AuditAction,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    facility_id: int | None = None,
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event. `target` names the object; its facility is taken when it has one.
    An action outside `AuditAction` is a programming error (ValueError), so a typo fails tests."""
    action = AuditAction(action)
    event = AuditEvent(
        **_event_fields(
            actor=actor,
            action=action,
            target=target,
            object_type=object_type,
            object_id=object_id,
            facility_id=facility_id,
            changes=changes,
        )
    )
    with transaction.atomic():
        last = _lock_the_chain_and_read_its_head()
        event.prev_hash = last or GENESIS
        event.hash = event_hash(event)
        event.save()
    return event


def access_log_append(
    *,
    actor,
    action: AuditAction,
    target: models.Model,
    facility_id: int | None = None,
    changes: dict | None = None,
) -> AuditPending:
    """Append one access-log record without the chain's lock (one INSERT); the periodic job
    seals it. Only DEFERRED_ACTIONS: a write's event is chained with the write (audit_record)."""
    record = AuditPending(
        **_access_log_fields(
            actor=actor, action=action, target=target, facility_id=facility_id, changes=changes
        )
    )
    record.save()
    return record


def _access_log_fields(
    *, actor, action, target, object_type: str = "", facility_id=None, changes=None
) -> dict:
    action = AuditAction(action)
    if action not in DEFERRED_ACTIONS:
        raise ValueError(f"{action} is chained with its write: use audit_record")
    return _event_fields(
        actor=actor,
        action=action,
        target=target,
        object_type=object_type,
        object_id="",
        facility_id=facility_id,
        changes=changes,
    )


def access_log_append_sql(
    *,
    actor,
    action: AuditAction,
    target_model: type[models.Model],
    rows: str,
    object_id: str,
    object_label: str,
    facility_id: str,
    changes: dict | None = None,
) -> tuple[str, list]:
    """An `INSERT … SELECT … FROM <rows>` (SQL and its parameters) appending the record
    access_log_append would write for each row of `rows`: a table expression of the caller's
    statement (a CTE and its WHERE), over whose columns `object_id` and `facility_id` are SQL.
    The object is labelled `object_label` and its id (what str() of it says).

    For a page that decides who may open a record and records the opening on every view: the
    decision's read and this INSERT in one statement, one round trip and one commit instead of
    two (make bench). PostgreSQL: the caller puts it in a WITH."""
    fields = _access_log_fields(
        actor=actor,
        action=action,
        target=None,
        changes=changes,
        object_type=target_model._meta.label_lower,
    )
    fields["actor_id"] = fields.pop("actor").pk if fields["actor"] is not None else None
    fields["object_repr"] = object_label
    sql, filled = _access_log_insert(rows, object_id, facility_id, connection.vendor)
    by_name = {field.attname: field for field in AuditPending._meta.concrete_fields}
    return sql, [
        fields[column]
        if column == "object_repr"
        else by_name[column].get_db_prep_save(fields[column], connection)
        for column in filled
    ]


@functools.cache
def _access_log_insert(rows: str, object_id: str, facility_id: str, vendor: str):
    """access_log_append_sql's statement (built once: it runs on every view) and the columns
    its parameters fill, in order."""
    per_row = {
        "object_id": object_id,
        "object_repr": f"CAST(%s AS text) || CAST({object_id} AS text)",
        "facility_id": facility_id,
    }
    columns, values, filled = [], [], []
    for field in AuditPending._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        expression = per_row.get(field.attname, "%s")
        if "%s" in expression:
            filled.append(field.attname)
        values.append(f"CAST({expression} AS {field.cast_db_type(connection)})")
    table = connection.ops.quote_name(AuditPending._meta.db_table)
    # Names from the model and the caller's SQL over its own columns; values are parameters.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {rows}"  # noqa: S608
    return sql, tuple(filled)


def access_log_seal(*, batch_size: int = SEAL_BATCH, max_batches: int | None = None) -> int:
    """Seal pending access-log records into the chain, oldest id first; how many were sealed.

    Each batch is one transaction under the chain's lock: the records become AuditEvents (their
    own time, actor, label, object, facility, changes and address, chained like any event) and
    leave AuditPending together, so a crash leaves the batch wholly pending, and a second
    sealer, waiting on the lock, then reads only what is still pending: nothing twice."""
    sealed, batches = 0, 0
    while max_batches is None or batches < max_batches:
        done = _seal_one_batch(batch_size)
        sealed, batches = sealed + done, batches + 1
        if done < batch_size:
            break
    return sealed


# What a pending record says, carried as it is into its sealed event (its own time, actor,
# label, object, facility, changes and address).
_RECORD_COLUMNS = tuple(f.attname for f in AuditPending._meta.concrete_fields if not f.primary_key)


@transaction.atomic
def _seal_one_batch(batch_size: int) -> int:
    head = _lock_the_chain_and_read_its_head() or GENESIS
    # Read after the lock (a statement of its own, so a fresh snapshot under READ COMMITTED):
    # what a sealer before us moved is gone from here.
    pending = list(AuditPending.objects.order_by("id")[:batch_size])
    if not pending:
        return 0
    events = []
    for record in pending:
        event = AuditEvent(
            **{column: getattr(record, column) for column in _RECORD_COLUMNS},
            prev_hash=head,
        )
        event.hash = head = event_hash(event)
        events.append(event)
    # One INSERT: ids come from the sequence in list order, under the lock, so id order is
    # chain order as verify_chain reads it.
    AuditEvent.objects.bulk_create(events)
    moved, _by_model = AuditPending.objects.filter(pk__in=[r.pk for r in pending]).delete()
    if moved != len(pending):  # someone else moved them (not under the lock): undo this batch
        raise RuntimeError(f"sealed {len(pending)} pending records but removed {moved}")
    return len(pending)


def access_log_pending() -> int:
    """How many access-log records wait for their seal (not yet tamper-evident)."""
    return AuditPending.objects.count()


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and everything the event says (not its id or actor FK,
    which may be nulled when an account is erased; the label keeps who it was)."""
    content = json.dumps(
        [
            event.prev_hash,
            event.created_at.isoformat(),
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.facility_id,
            event.changes,
            event.ip_address,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode()).hexdigest()


def verify_chain(batch_size: int = 10_000) -> AuditEvent | None:
    """The first event whose link is broken, or None when the whole trail is intact."""
    expected_prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev or event.hash != event_hash(event):
            return event
        expected_prev = event.hash
    return None


def _lock_the_chain_and_read_its_head() -> str | None:
    """One writer at a time appends to the chain: the last hash is read under the lock.

    PostgreSQL: a transaction-level advisory lock, taken and followed by the read in one round
    trip (the function of migration mcnet 0005). SQLite serializes writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT mcnet_audit_chain_head()")
            return cursor.fetchone()[0]
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
