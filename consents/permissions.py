"""Access ends with care (別紙5 (2), 第9条3項): who may open a patient's record once its care
has ended, and why.

A record's care has ended when the patient has no working group and either a group of theirs
was closed (archived, or its consent withdrawn or found invalid) or their consent ended with
no valid one in its place. From that moment the members' grants are gone (groups.permissions)
and the registering facility's other patient-group managers no longer see the patient. Only
the custodians of the record (留意事項 医療介護情報の取り扱い (2); 第6条 (1)) open it: the MCS
administrators of the facility that holds it and the manager of the patient's group (for a
patient who never had a group, whoever registered them). Each opening is asked a purpose and
written to the access log first; it opens the record to that custodian for a short while.
"""

import datetime as dt

from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, TextChoices
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import FacilityRole
from groups.models import Group, closed_patient_group_q
from mcnet.audit import AuditAction
from mcnet.models import AuditEvent

from .models import Consent, active_consent_q

# How long one opening keeps the record open to its custodian (the pages of one task).
OPEN_RECORD_MINUTES = 15


class OpeningPurpose(TextChoices):
    """Why a custodian opens a closed record: a code, so the log holds no patient text."""

    PATIENT_REQUEST = "patient_request", _("本人・家族からの照会・請求への対応（別紙6）")
    CORRECTION = "correction", _("記録の確認・訂正")
    INCIDENT = "incident", _("事故・漏えい等の調査")
    LEGAL = "legal", _("法令に基づく照会への対応")
    RESTART = "restart", _("利用の再開（新しい同意の記録）")
    OTHER = "other", _("その他の業務上の必要")


def care_ended_q() -> Q:
    """On Patient: the record's care has ended (see the module docstring)."""
    groups = Group.objects.filter(patient=OuterRef("pk"))
    consents = Consent.objects.filter(patient=OuterRef("pk"))
    working = Exists(groups.exclude(closed_patient_group_q()))
    closed = Exists(groups.filter(closed_patient_group_q()))
    active = Exists(consents.filter(active_consent_q()))
    ended = Exists(consents.exclude(active_consent_q()))
    return ~working & (closed | (~active & ended))


def out_of_care_q() -> Q:
    """On Patient: no longer in care — care has ended, or its end was reported (留意事項 3)
    and the patient's group awaits the archive with no working group beside it. Lists show
    these apart and do not count them as in care."""
    groups = Group.objects.filter(patient=OuterRef("pk"))
    reported = Exists(groups.filter(state="to_be_archived")) & ~Exists(
        groups.filter(state="active")
    )
    return care_ended_q() | reported


def _mcs_admin_facility_ids(user) -> list[int]:
    return [f for f, role in user.roles_held if role == FacilityRole.Role.MCS_ADMIN]


def custodian_q(user) -> Q:
    """On Patient: the records `user` holds in custody (see the module docstring)."""
    if not (user and user.is_authenticated and user.is_active) or user.is_center_staff:
        return Q(pk__in=[])
    managed = Group.objects.filter(manager=user, patient__isnull=False).values("patient_id")
    has_group = Exists(Group.objects.filter(patient=OuterRef("pk")))
    return (
        Q(facility_id__in=_mcs_admin_facility_ids(user))
        | Q(pk__in=managed)
        | (Q(registered_by=user) & ~has_group)
    )


def opened_patient_ids(user, *, now=None) -> QuerySet:
    """The closed records this custodian opened (with a purpose) in the last minutes."""
    since = (now or timezone.now()) - dt.timedelta(minutes=OPEN_RECORD_MINUTES)
    return (
        AuditEvent.objects.filter(
            action=AuditAction.PATIENT_OPEN_RECORD,
            actor=user,
            object_type="consents.patient",
            created_at__gte=since,
        )
        .annotate(patient_id=Cast("object_id", BigIntegerField()))
        .values("patient_id")
    )


def opened_closed_records_q(user) -> Q:
    """On Patient: closed records open to `user` now — a custodian who gave a purpose."""
    if not (user and user.is_authenticated and user.is_active) or user.is_center_staff:
        return Q(pk__in=[])
    return care_ended_q() & custodian_q(user) & Q(pk__in=opened_patient_ids(user))
