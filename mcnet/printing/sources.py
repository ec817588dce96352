"""Where the forms' data comes from in the other apps, and who may print it.

Facilities (別紙1–4) are read here from facilities' models; the patient's consent (別紙7) and
the take-out request (第12条(9)) are gathered by their own apps' selectors, wired in below
once those apps provide them. Every function returns plain values for `contexts`.
"""

from importlib import import_module
from importlib.util import find_spec

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
    if find_spec(module.split(".")[0]) is None or find_spec(module) is None:
        return None
    return getattr(import_module(module), name, None)


def besshi7_targets() -> tuple:
    return ()


def takeout_targets() -> tuple:
    return ()


def consent_batches(batch_class) -> list:
    """Every pending 別紙7 of a facility, once consents provide it."""
    return []
