"""Reads of the consents app, scoped to the asking user.

A patient is visible to (1) the accepted members of one of the patient's groups — the
`groups.access_group` grant — and (2) the patient-group managers of the facility that
registered them — the `facilities.register_patients` grant — who explain, record consent and
create the group before any group exists (第8条, 第9条). Nobody else: not an invitee, not the
center, not another facility's administrator (別紙5 (2)). Both facts are read from the guardian
grant tables, so lists and single-object checks cannot disagree.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from facilities.models import Facility, FacilityUserObjectPermission
from facilities.permissions import roles_grant
from groups.models import Group, GroupUserObjectPermission
from mcnet.text import nfkc, normalize_kana

from .models import Consent, Patient


def facility_ids_granted(user, codename: str) -> QuerySet:
    """Ids of the facilities on which the user holds `facilities.<codename>` (a subquery)."""
    if not roles_grant(user, codename):
        return FacilityUserObjectPermission.objects.none().values("content_object_id")
    return FacilityUserObjectPermission.objects.filter(
        user=user, permission__content_type__app_label="facilities", permission__codename=codename
    ).values("content_object_id")


def _patients_of_groups_granted(user, codename: str) -> QuerySet:
    return GroupUserObjectPermission.objects.filter(
        user=user,
        permission__content_type__app_label="groups",
        permission__codename=codename,
        content_object__patient__isnull=False,
    ).values("content_object__patient_id")


def registering_facilities_of(user) -> QuerySet:
    """Facilities where the user may register patients (patient-group manager, 第8条)."""
    if not user.is_authenticated:
        return Facility.objects.none()
    return Facility.objects.filter(pk__in=facility_ids_granted(user, "register_patients"))


def patients_visible_to(user) -> QuerySet[Patient]:
    """Patients whose details the user may see (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    return Patient.objects.filter(
        Q(facility_id__in=facility_ids_granted(user, "register_patients"))
        | Q(pk__in=_patients_of_groups_granted(user, "access_group"))
    )


def patients_managed_by(user) -> QuerySet[Patient]:
    """Patients whose record and consent the user may change: a patient-group manager of the
    registering facility, or the manager of the patient's group."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    return Patient.objects.filter(
        Q(facility_id__in=facility_ids_granted(user, "register_patients"))
        | Q(pk__in=_patients_of_groups_granted(user, "manage_group"))
    )


def patient_for_viewer(user, pk: int) -> Patient:
    patient = patients_visible_to(user).select_related("facility").filter(pk=pk).first()
    if patient is None:  # 404, not 403: whether the patient exists is not the asker's business
        raise Http404
    return patient


def patient_for_manager(user, pk: int) -> Patient:
    patient = patients_managed_by(user).select_related("facility").filter(pk=pk).first()
    if patient is None:
        raise Http404
    return patient


def can_manage_patient(user, patient: Patient) -> bool:
    return patients_managed_by(user).filter(pk=patient.pk).exists()


def consents_managed_by(user) -> QuerySet[Consent]:
    """Consents (and their scans) are for those who handle the paper: the managers above.
    Supporters see only that a valid consent exists, on the group's page."""
    return Consent.objects.filter(patient__in=patients_managed_by(user))


def consent_for_manager(user, pk: int) -> Consent:
    consent = (
        consents_managed_by(user)
        .select_related("patient", "patient__facility", "explainer_facility", "recorded_by")
        .filter(pk=pk)
        .first()
    )
    if consent is None:
        raise Http404
    return consent


def active_consent_of(patient: Patient) -> Consent | None:
    return patient.consents.filter(status=Consent.Status.ACTIVE).first()


def patient_list_for(user, *, query: str = "") -> QuerySet[Patient]:
    patients = patients_visible_to(user).filter(erased_at__isnull=True)
    if query:
        patients = patients.filter(
            Q(name__contains=nfkc(query)) | Q(kana__contains=normalize_kana(query))
        )
    return patients.select_related("facility").annotate(
        has_active_consent=Exists(
            Consent.objects.filter(patient=OuterRef("pk"), status=Consent.Status.ACTIVE)
        )
    )


def home_section(user) -> dict | None:
    """Patient-group managers get a link to their patients on the home page."""
    if not user.is_authenticated or not registering_facilities_of(user).exists():
        return None
    return {"patient_count": patient_list_for(user).count()}


def groups_of_patient_for(user, patient: Patient) -> QuerySet[Group]:
    """The patient's groups (a patient has at most one working group, and maybe archived
    ones), with whether the user is a member and so may open each."""
    return (
        Group.objects.filter(patient=patient)
        .annotate(
            is_member=Exists(
                GroupUserObjectPermission.objects.filter(
                    user=user,
                    permission__codename="access_group",
                    content_object_id=OuterRef("pk"),
                )
            )
        )
        .order_by("-created_at")
    )


def explainer_facilities_for(user, patient: Patient) -> QuerySet[Facility]:
    """Who explained the consent (別紙7 ＜説明した人＞): the recorder's facilities, or the
    patient's."""
    return (
        Facility.objects.filter(
            Q(memberships__user=user, memberships__is_active=True) | Q(pk=patient.facility_id)
        )
        .distinct()
        .order_by("name")
    )
