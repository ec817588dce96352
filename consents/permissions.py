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

Half of that rule is about groups, which sit above consents: consents may not import them.
The groups app hands its part in once, at start-up (`use_patient_groups`, from
GroupsConfig.ready()): whether the patient has a working, closed or any group, and which
patients reach the user through a group (groups.permissions). Consents combines it with the
consents' part here, so the rule still reads in one place.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, TextChoices
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import FacilityRole
from facilities.permissions import facility_ids_with, holds_on
from mcnet.audit import AuditAction
from mcnet.models import AuditEvent

from .models import Consent, Patient, PatientRequest, active_consent_q

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


@dataclass(frozen=True)
class PatientGroups:
    """What consents asks of the groups above it; expressions are on Patient rows."""

    has_group: Callable[[], Q]
    has_working_group: Callable[[], Q]
    has_closed_group: Callable[[], Q]
    awaiting_archive: Callable[[], Q]
    # (user, codename) -> ids of the patients of the groups on which the user holds it
    patient_ids_granted: Callable[..., QuerySet]
    # user -> ids of the patients whose group the user manages
    patient_ids_managed_by: Callable[..., QuerySet]
    # (user, patient) -> the patient's groups, each with `is_member` (the patient's page)
    groups_of_patient_for: Callable[..., QuerySet]
    # patient ids -> {patient id: ids of the active managers of the patient's groups}
    group_manager_ids_of_patients: Callable[..., dict]
    # patient -> ids of the facilities its care team (groups not archived) came through
    care_team_facility_ids: Callable[..., QuerySet]


_patient_groups: PatientGroups | None = None


def use_patient_groups(answers: PatientGroups) -> None:
    """Called once by the groups app at start-up (GroupsConfig.ready)."""
    global _patient_groups
    _patient_groups = answers


def patient_groups() -> PatientGroups:
    # Deny by default would be wrong here (a closed record would look open): fail loudly.
    if _patient_groups is None:
        raise ImproperlyConfigured("the groups app has not registered use_patient_groups")
    return _patient_groups


def care_ended_q() -> Q:
    """On Patient: the record's care has ended (see the module docstring)."""
    groups = patient_groups()
    consents = Consent.objects.filter(patient=OuterRef("pk"))
    active = Exists(consents.filter(active_consent_q()))
    ended = Exists(consents.exclude(active_consent_q()))
    return ~groups.has_working_group() & (groups.has_closed_group() | (~active & ended))


def out_of_care_q() -> Q:
    """On Patient: no longer in care — care has ended, or its end was reported (留意事項 3)
    and the patient's group awaits the archive with no working group beside it. Lists show
    these apart and do not count them as in care."""
    return care_ended_q() | patient_groups().awaiting_archive()


def _mcs_admin_facility_ids(user) -> list[int]:
    return [f for f, role in user.roles_held if role == FacilityRole.Role.MCS_ADMIN]


def custodian_q(user) -> Q:
    """On Patient: the records `user` holds in custody (see the module docstring)."""
    if not (user and user.is_authenticated and user.is_active) or user.is_center_staff:
        return Q(pk__in=[])
    groups = patient_groups()
    return (
        Q(facility_id__in=_mcs_admin_facility_ids(user))
        | Q(pk__in=groups.patient_ids_managed_by(user))
        | (Q(registered_by=user) & ~groups.has_group())
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


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


# --- may register patients (第8条): the patient-group managers of the facility ---------------


def registering_facility_ids(user) -> QuerySet:
    """Ids of the facilities where the user may register patients and create their groups (the
    `facilities.register_patients` grant of a patient-group manager, 第8条)."""
    return facility_ids_with(user, "register_patients", while_restricted=True)


def can_register_patient(user, facility) -> bool:
    """The object check of registering_facility_ids: the page, the form's choices and the
    services (patient_register, group_create_for_patient) all ask this."""
    return holds_on(user, facility.pk, "register_patients", while_restricted=True)


# --- who sees a patient, who manages one (consents.selectors' module docstring) --------------


def patients_visible_q(user) -> Q:
    """On Patient: the user sees the patient's details — a patient-group manager of the
    registering facility while care goes on, an accepted member of the patient's group, or a
    custodian who opened the closed record with a purpose."""
    return (
        (Q(facility_id__in=registering_facility_ids(user)) & ~care_ended_q())
        | Q(pk__in=patient_groups().patient_ids_granted(user, "access_group"))
        | opened_closed_records_q(user)
    )


def patients_managed_q(user) -> Q:
    """On Patient: the user may change the record and its consent — a patient-group manager
    of the registering facility, or the manager of the patient's group."""
    return (
        (Q(facility_id__in=registering_facility_ids(user)) & ~care_ended_q())
        | Q(pk__in=patient_groups().patient_ids_granted(user, "manage_group"))
        | opened_closed_records_q(user)
    )


def can_manage_patient(user, patient) -> bool:
    if not _signed_in(user):
        return False
    return Patient.objects.filter(patients_managed_q(user), pk=patient.pk).exists()


def may_open_closed_record(user, pk: int) -> bool:
    """A custodian may open this closed record (after giving a purpose)."""
    if not _signed_in(user):
        return False
    return Patient.objects.filter(care_ended_q() & custodian_q(user), pk=pk).exists()


def can_handle_patient_request(user, patient_request) -> bool:
    """The custodians of the patient's record receive and answer the request (別紙6)."""
    if not _signed_in(user) or user.is_center_staff:
        return False
    return PatientRequest.objects.filter(
        pk=patient_request.pk, patient__in=Patient.objects.filter(custodian_q(user))
    ).exists()
