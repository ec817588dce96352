"""Where the forms' data comes from in the other apps, and who may print it.

Facilities (別紙1–4) are read here from facilities' models; the patient's consent (別紙7) and
the take-out request (第12条(9)) are gathered by their own apps' selectors, imported plainly
(printing sits above every app). Every function returns plain values for `contexts`.
"""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from consents import selectors as consent_selectors
from consents.models import active_consent_q
from enrollment import selectors as enrollment_selectors
from enrollment.models import Application, ChangeNotice, RosterRequest
from facilities.models import Facility, FacilityMembership, FacilityRole
from facilities.permissions import facility_ids_with
from facilities.selectors import memberships_printable_by
from groups import selectors as group_selectors
from groups import services as group_services
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force

from . import contexts
from .forms.base import filed_label, patient_label, signed_label
from .targets import Target

# Who may print a facility's papers: those who sign them (事業所管理者) or keep its staff list
# (MCS管理者, 第6条(4)); the center receives them (第4条).
FACILITY_FORM_GRANTS = ("sign_for_facility", "manage_staff")


def facilities_printable_by(user) -> QuerySet[Facility]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Facility.objects.none()
    if user.is_center_staff:
        return Facility.objects.all()
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, *FACILITY_FORM_GRANTS, while_restricted=True)
    )


def facility_fields(facility: Facility) -> dict:
    return {
        "name": facility.name,
        "postal_code": facility.postal_code,
        "address": facility.address,
        "phone": facility.phone,
        "kind": facility.get_kind_display(),
        "manager_name": facility.manager_name,
        "manager_email": facility.manager_email,
    }


def facility_staff_rows(facility: Facility) -> list[dict]:
    """別紙3's rows: every active member, with the MCS administrator flag (*1) and *2."""
    admins = set(
        FacilityRole.objects.filter(
            facility=facility, role=FacilityRole.Role.MCS_ADMIN
        ).values_list("user_id", flat=True)
    )
    memberships = (
        FacilityMembership.objects.filter(facility=facility, is_active=True)
        .select_related("user")
        .order_by("user__kana", "user__email")
    )
    rows = []
    for membership in memberships:
        user = membership.user
        rows.append(
            {
                "name": user.name,
                "kana": user.kana,
                "gender": user.get_gender_display() if user.gender in ("female", "male") else "",
                "occupation": user.get_occupation_display(),
                "email": user.email,
                "is_admin": user.pk in admins,
                "registered": bool(user.had_mcs_account),
            }
        )
    return rows


def besshi1_for_facility(facility: Facility) -> dict:
    return contexts.besshi1(facility=facility_fields(facility))


def besshi2_for_facility(facility: Facility) -> dict:
    return contexts.besshi2(facility=facility_fields(facility))


def besshi3_for_facility(facility: Facility) -> dict:
    return contexts.besshi3(facility=facility_fields(facility), staff=facility_staff_rows(facility))


def besshi4_for_facility(facility: Facility) -> dict:
    """The notice's head for a facility; its rows are written by hand (a filed
    notice prints from enrollment's paper, below)."""
    return contexts.besshi4(facility=facility_fields(facility))


def staff_pledge_for_membership(membership: FacilityMembership) -> dict:
    """第7条: the pledge of one staff member at one facility. A pledge on the version in
    force prints with its date; otherwise the version in force, to be signed and dated."""
    user, facility = membership.user, membership.facility
    pledge = user.pledges.filter(facility=facility).select_related("rule_version").first()
    current = version_in_force(Document.STAFF_PLEDGE)
    signed = pledge is not None and pledge.rule_version_id == current.pk and not pledge.waived
    return contexts.staff_pledge(
        facility={"name": facility.name, "manager_name": facility.manager_name},
        staff={"name": user.name, "occupation": user.get_occupation_display()},
        date=pledge.signed_on if signed else None,
        version=current,
    )


def staff_pledge_targets() -> tuple:
    return (
        Target(
            model="facilities.FacilityMembership",
            visible_to=lambda user: memberships_printable_by(user).select_related(
                "user", "facility"
            ),
            context=staff_pledge_for_membership,
            label=lambda m: f"{m.user} @ {m.facility}",
        ),
    )


# --- 別紙7: the consent (consents app, 第9条) ------------------------------------------------
# Printed for a recorded consent (its two copies, filled from the record) or for a patient
# whose consent is still to be obtained (pending: name and address filled, to be signed).
# Who may print them is who handles the paper: consents.selectors' managers of the patient —
# never the center (別紙5 (2): only the facilities involved see a patient's information).


def _consents_printable_by(user) -> QuerySet:
    return consent_selectors.consents_managed_by(user).filter(
        erased_at__isnull=True, patient__erased_at__isnull=True
    )


def _patients_printable_by(user) -> QuerySet:
    return consent_selectors.patients_managed_by(user).filter(erased_at__isnull=True)


def _explainer_of(facility) -> dict:
    return {"facility": facility.name, "phone": facility.phone, "name": ""}


def _facility_row(facility) -> dict:
    return {"name": facility.name, "kind": facility.get_kind_display(), "phone": facility.phone}


def _covered_by_signature(consent) -> list:
    """The facilities the 別紙7 itself covers: those added later print on their addenda."""
    added = consent.addenda.filter(state="signed").values("facilities")
    return list(consent.covered_facilities.exclude(pk__in=added).order_by("name"))


def besshi7_for_consent(consent) -> dict:
    patient = consent.patient
    proxy = consent.signer_kind != "patient"
    return contexts.besshi7(
        covered=[_facility_row(f) for f in _covered_by_signature(consent)],
        academic_use=bool(consent.academic_use),
        text_version=consent.text_version,
        version=consent.rule_version,
        patient={"name": patient.name, "address": patient.address},
        family=(
            {"name": consent.signer_name, "relationship": consent.signer_relationship}
            if proxy
            else None
        ),
        explainer={
            "facility": consent.explainer_facility.name,
            "phone": consent.explainer_phone or consent.explainer_facility.phone,
            "name": consent.explainer_name,
        },
        date=consent.signed_on,
    )


def besshi7_for_patient(patient) -> dict:
    """The consent to be signed: the patient and the registering facility filled in; the
    date, the signatures and the explainer's name are written on the paper."""
    return contexts.besshi7(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
    )


def besshi7_addendum_for(addendum) -> dict:
    consent = addendum.consent
    added = list(addendum.facilities.order_by("name"))
    covered = consent.covered_facilities.exclude(pk__in=[f.pk for f in added]).order_by("name")
    return contexts.besshi7_addendum(
        patient={"name": consent.patient.name, "address": consent.patient.address},
        consent_date=consent.signed_on,
        covered=[_facility_row(f) for f in covered],
        added=[_facility_row(f) for f in added],
        explainer={
            "facility": consent.explainer_facility.name,
            "phone": consent.explainer_phone or consent.explainer_facility.phone,
            "name": "",
        },
        date=addendum.signed_on,
        text_version=addendum.text_version,
        number=str(addendum.pk),
    )


def academic_use_for_record(record) -> dict:
    patient = record.patient
    return contexts.academic_use(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
        date=record.signed_on,
        withdrawn_on=record.withdrawn_on,
        text_version=record.text_version,
    )


def academic_use_for_patient(patient) -> dict:
    return contexts.academic_use(
        patient={"name": patient.name, "address": patient.address},
        explainer=_explainer_of(patient.facility),
    )


def besshi7_addendum_targets() -> tuple:
    return (
        Target(
            model="consents.ConsentAddendum",
            visible_to=lambda user: consent_selectors.addenda_printable_by(user).filter(
                consent__patient__erased_at=None
            ),
            context=besshi7_addendum_for,
            label=signed_label(gettext_lazy("%(date)sの追加同意")),
        ),
    )


def academic_use_targets() -> tuple:
    return (
        Target(
            model="consents.AcademicUseConsent",
            visible_to=lambda user: consent_selectors.academic_consents_managed_by(user).filter(
                patient__erased_at=None
            ),
            context=academic_use_for_record,
            label=signed_label(gettext_lazy("%(date)sの同意")),
        ),
        Target(
            model="consents.Patient",
            visible_to=_patients_printable_by,
            context=academic_use_for_patient,
            label=patient_label,
        ),
    )


def besshi7_targets() -> tuple:
    return (
        Target(
            model="consents.Consent",
            visible_to=_consents_printable_by,
            context=besshi7_for_consent,
            label=signed_label(gettext_lazy("%(date)sの同意")),
        ),
        Target(
            model="consents.Patient",
            visible_to=_patients_printable_by,
            context=besshi7_for_patient,
            label=patient_label,
        ),
    )


def _pending_consent_facilities(user) -> QuerySet:
    return (
        consent_selectors.registering_facilities_of(user)
        if getattr(user, "is_authenticated", False)
        else Facility.objects.none()
    )


def _patients_pending_consent(user, facility) -> QuerySet:
    """The facility's patients with no valid consent yet: their 別紙7 are to be signed."""
    return (
        _patients_printable_by(user)
        .filter(facility=facility)
        .exclude(active_consent_q("consents__"))
        .select_related("facility")
        .order_by("kana", "pk")
    )


def consent_batches(batch_class) -> list:
    """Every pending 別紙7 of a facility, for its patient-group managers."""
    return [
        batch_class(
            key="besshi7-pending",
            form_code="besshi7",
            title="同意書（別紙7）の未取得者",
            item_model="consents.Patient",
            scope_model="facilities.Facility",
            scopes_for=_pending_consent_facilities,
            items=_patients_pending_consent,
        )
    ]


# --- 「あなたの支援チーム」 (groups app, 別紙5 (2)) -----------------------------------------------


def team_notice_for_group(group) -> dict:
    manager = group.manager
    return contexts.team_notice(
        patient={"name": group.patient.name},
        team=group_selectors.team_of(group),
        date=timezone.localdate(),
        manager={
            "name": getattr(manager, "name", "") or "",
            "facility": group.facility.name if group.facility_id else "",
            "phone": group.facility.phone if group.facility_id else "",
        },
    )


def _record_team_notice(actor, group) -> None:
    group_services.team_notice_record(actor=actor, group=group)


def team_notice_targets() -> tuple:
    return (
        Target(
            model="groups.Group",
            visible_to=lambda user: group_selectors.team_notice_groups_for(user).select_related(
                "patient", "facility"
            ),
            context=team_notice_for_group,
            label=lambda group: f"No.{group.pk}",
            on_request=_record_team_notice,
        ),
    )


# --- 別紙1–4 from the enrollment papers: the application, 別紙3, 別紙4 -------------------------
# The papers as filed; the center receives them all (第4条), a facility's signers see theirs
# (enrollment.selectors). The facility-based targets above stay for a facility with no paper.


def _center_or(user, queryset, own: QuerySet) -> QuerySet:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_center_staff:
        return queryset
    return own


def _applications_printable_by(user) -> QuerySet:
    own = Application.objects.filter(facility__in=facilities_printable_by(user))
    return _center_or(user, Application.objects.all(), own)


def _rosters_printable_by(user) -> QuerySet:
    own = enrollment_selectors.roster_requests_for(user)
    return _center_or(user, RosterRequest.objects.all(), own)


def _notices_printable_by(user) -> QuerySet:
    own = enrollment_selectors.notices_for(user)
    return _center_or(user, ChangeNotice.objects.all(), own)


def _paper_facility(data: dict, manager_name: str | None = None) -> dict:
    return {
        "name": data.get("facility_name", ""),
        "postal_code": data.get("postal_code", ""),
        "address": data.get("address", ""),
        "phone": data.get("phone", ""),
        "kind": data.get("kind_label", ""),
        "manager_name": manager_name if manager_name is not None else data.get("manager_name", ""),
        "manager_email": data.get("manager_email", ""),
    }


def besshi1_for_application(application) -> dict:
    data = enrollment_selectors.besshi1_context(application)
    return contexts.besshi1(facility=_paper_facility(data), date=data.get("date"))


def besshi2_for_application(application) -> dict:
    data = enrollment_selectors.besshi2_context(application)
    # The wording the manager affirmed (第15条), not the one in force today.
    return contexts.besshi2(
        facility=_paper_facility(data),
        date=data.get("date"),
        version=application.pledge_rule_version,
    )


def besshi3_for_roster(roster_request) -> dict:
    data = enrollment_selectors.besshi3_context(roster_request)
    staff = [
        {
            "name": row["name"],
            "gender": row.get("gender_label", ""),
            "occupation": row.get("occupation_label", ""),
            "email": row["email"],
            "is_admin": row.get("is_mcs_admin", False),
            "registered": row.get("had_mcs_account", False),
        }
        for row in data.get("rows", [])
    ]
    facility = _paper_facility(data, data.get("representative_name") or None)
    return contexts.besshi3(facility=facility, staff=staff, date=data.get("date"))


def besshi4_for_notice(change_notice) -> dict:
    data = enrollment_selectors.besshi4_context(change_notice)
    changes = [
        {
            "kana": row.get("kana", ""),
            "name": row.get("name", ""),
            "occupation": row.get("occupation_label", ""),
            "email": row.get("email", ""),
            "is_admin": row.get("is_mcs_admin", False),
            "change": row.get("action", ""),
        }
        for row in data.get("rows", [])
    ]
    return contexts.besshi4(
        facility=_paper_facility(data, data.get("signer_name", "")),
        changes=changes,
        date=data.get("date"),
        stop=bool(data.get("stop")),
        reason=data.get("reason", ""),
    )


def enrollment_targets(code: str) -> tuple:
    """別紙1–4 printed from the paper that was filed (first), when enrollment provides it."""
    builders = {
        "besshi1": (
            "enrollment.Application",
            _applications_printable_by,
            besshi1_for_application,
        ),
        "besshi2": (
            "enrollment.Application",
            _applications_printable_by,
            besshi2_for_application,
        ),
        "besshi3": (
            "enrollment.RosterRequest",
            _rosters_printable_by,
            besshi3_for_roster,
        ),
        "besshi4": (
            "enrollment.ChangeNotice",
            _notices_printable_by,
            besshi4_for_notice,
        ),
    }
    model, visible_to, context = builders[code]
    return (
        Target(
            model=model,
            visible_to=visible_to,
            context=context,
            label=filed_label,
        ),
    )
