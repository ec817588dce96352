"""Where the forms' data comes from in the other apps, and who may print it.

Facilities (別紙1–4) are read here from facilities' models; the patient's consent (別紙7) and
the take-out request (第12条(9)) are gathered by their own apps' selectors, wired in below
once those apps provide them. Every function returns plain values for `contexts`.
"""

from importlib import import_module

from django.db.models import QuerySet

from facilities.models import Facility, FacilityMembership, FacilityRole

from . import contexts

# Who may print a facility's papers: those who sign them (事業所管理者) or keep its staff list
# (MCS管理者, 第6条(4)); the center receives them (第4条).
FACILITY_FORM_ROLES = (FacilityRole.Role.FACILITY_MANAGER, FacilityRole.Role.MCS_ADMIN)


def facilities_printable_by(user) -> QuerySet[Facility]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Facility.objects.none()
    if user.is_center_staff:
        return Facility.objects.all()
    return Facility.objects.filter(
        pk__in=FacilityRole.objects.filter(user=user, role__in=FACILITY_FORM_ROLES).values(
            "facility_id"
        )
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
    """The notice's head for a facility; its rows are written by hand until enrollment (issue
    4) records change notices."""
    return contexts.besshi4(facility=facility_fields(facility))


def _provided(module: str, name: str):
    """`module.name` when the owning app provides it (apps land one by one)."""
    try:
        return getattr(import_module(module), name, None)
    except ImportError:
        return None


# --- 別紙7: the consent (consents app, 第9条) ------------------------------------------------
# Printed for a recorded consent (its two copies, filled from the record) or for a patient
# whose consent is still to be obtained (pending: name and address filled, to be signed).
# Who may print them is who handles the paper: consents.selectors' managers of the patient —
# never the center (別紙5 (2): only the facilities involved see a patient's information).


def _consents_printable_by(user) -> QuerySet:
    managed = _provided("consents.selectors", "consents_managed_by")
    return managed(user).filter(erased_at__isnull=True, patient__erased_at__isnull=True)


def _patients_printable_by(user) -> QuerySet:
    managed = _provided("consents.selectors", "patients_managed_by")
    return managed(user).filter(erased_at__isnull=True)


def _explainer_of(facility) -> dict:
    return {"facility": facility.name, "phone": facility.phone, "name": ""}


def besshi7_for_consent(consent) -> dict:
    patient = consent.patient
    proxy = consent.signer_kind != "patient"
    return contexts.besshi7(
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


def besshi7_targets() -> tuple:
    from .targets import Target

    if _provided("consents.selectors", "consents_managed_by") is None:
        return ()
    return (
        Target(
            model="consents.Consent",
            visible_to=_consents_printable_by,
            context=besshi7_for_consent,
        ),
        Target(
            model="consents.Patient",
            visible_to=_patients_printable_by,
            context=besshi7_for_patient,
        ),
    )


def _pending_consent_facilities(user) -> QuerySet:
    registering = _provided("consents.selectors", "registering_facilities_of")
    return (
        registering(user) if getattr(user, "is_authenticated", False) else Facility.objects.none()
    )


def _patients_pending_consent(user, facility) -> QuerySet:
    """The facility's patients with no valid consent yet: their 別紙7 are to be signed."""
    return (
        _patients_printable_by(user)
        .filter(facility=facility)
        .exclude(consents__status="active")
        .select_related("facility")
        .order_by("kana", "pk")
    )


def consent_batches(batch_class) -> list:
    """Every pending 別紙7 of a facility, for its patient-group managers."""
    if _provided("consents.selectors", "registering_facilities_of") is None:
        return []
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


# --- 第12条(9)(10): the take-out or BYOD request (devices app) -----------------------------------


def _takeouts_printable_by(user) -> QuerySet:
    return _provided("devices.selectors", "takeouts_visible_to")(user)


def takeout_for_request(request_obj) -> dict:
    """The devices app gathers the request (devices.selectors.takeout_form_context)."""
    data = _provided("devices.selectors", "takeout_form_context")(request_obj)
    approver = data.get("approver") or {}
    requester = data.get("requester") or {}
    return contexts.takeout(
        {
            "title": data.get("title", ""),
            "facility": (data.get("facility") or {}).get("name", ""),
            "requester_name": requester.get("name", ""),
            "requester_occupation": requester.get("occupation", ""),
            "kind": "byod" if data.get("is_byod") else "facility",
            "device": data.get("device") or data.get("personal_device") or "",
            "information": data.get("information", ""),
            "medium": data.get("medium", ""),
            "purpose": data.get("purpose", ""),
            "period_start": data.get("period_start"),
            "period_end": data.get("period_end"),
            "requested_on": data.get("submitted_on"),
            "decision": (
                "approved" if data.get("approved") else "rejected" if data.get("rejected") else ""
            ),
            "decided_on": data.get("decided_on"),
            "approver_name": approver.get("name", ""),
            "decision_note": data.get("decision_comment", ""),
            "checklist": data.get("checklist") or {},
        }
    )


def takeout_targets() -> tuple:
    from .targets import Target

    if _provided("devices.selectors", "takeout_form_context") is None:
        return ()
    return (
        Target(
            model="devices.TakeoutRequest",
            visible_to=_takeouts_printable_by,
            context=takeout_for_request,
            label=lambda request_obj: f"届出 #{request_obj.pk}",
        ),
    )


# --- 別紙1–4 from the enrollment papers (issue 4): the application, 別紙3, 別紙4 ----------------
# The papers as filed; the center receives them all (第4条), a facility's signers see theirs
# (enrollment.selectors). The facility-based targets above stay for a facility with no paper.


def _center_or(user, queryset, own: QuerySet) -> QuerySet:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_center_staff:
        return queryset
    return own


def _applications_printable_by(user) -> QuerySet:
    from enrollment.models import Application

    own = Application.objects.filter(facility__in=facilities_printable_by(user))
    return _center_or(user, Application.objects.all(), own)


def _rosters_printable_by(user) -> QuerySet:
    from enrollment.models import RosterRequest

    own = _provided("enrollment.selectors", "roster_requests_for")(user)
    return _center_or(user, RosterRequest.objects.all(), own)


def _notices_printable_by(user) -> QuerySet:
    from enrollment.models import ChangeNotice

    own = _provided("enrollment.selectors", "notices_for")(user)
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
    data = _provided("enrollment.selectors", "besshi1_context")(application)
    return contexts.besshi1(facility=_paper_facility(data), date=data.get("date"))


def besshi2_for_application(application) -> dict:
    data = _provided("enrollment.selectors", "besshi2_context")(application)
    return contexts.besshi2(facility=_paper_facility(data), date=data.get("date"))


def besshi3_for_roster(roster_request) -> dict:
    data = _provided("enrollment.selectors", "besshi3_context")(roster_request)
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
    data = _provided("enrollment.selectors", "besshi4_context")(change_notice)
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
    from .targets import Target

    builders = {
        "besshi1": (
            "enrollment.Application",
            _applications_printable_by,
            besshi1_for_application,
            "besshi1_context",
        ),
        "besshi2": (
            "enrollment.Application",
            _applications_printable_by,
            besshi2_for_application,
            "besshi2_context",
        ),
        "besshi3": (
            "enrollment.RosterRequest",
            _rosters_printable_by,
            besshi3_for_roster,
            "besshi3_context",
        ),
        "besshi4": (
            "enrollment.ChangeNotice",
            _notices_printable_by,
            besshi4_for_notice,
            "besshi4_context",
        ),
    }
    model, visible_to, context, provided = builders[code]
    if _provided("enrollment.selectors", provided) is None:
        return ()
    return (
        Target(
            model=model,
            visible_to=visible_to,
            context=context,
            label=lambda paper: f"{paper._meta.verbose_name} #{paper.pk}",
        ),
    )
