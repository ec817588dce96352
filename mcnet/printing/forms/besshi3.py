"""別紙3 一括登録代行申込書: the facility's staff, to be registered by the center.

Printed for the request as filed (enrollment.RosterRequest) or, with no paper, for a
facility (its active staff), by whoever may print the facility's papers
(printing.permissions); the center prints every facility's at once (batches).
"""

from enrollment.models import RosterRequest
from facilities.models import Facility, FacilityMembership, FacilityRole
from mcnet.wareki import wareki

from .. import samples
from ..permissions import rosters_printable_by
from .base import FACILITY_FIELDS, facility_fields, facility_paper_targets, form, pick, rows

STAFF_FIELDS = ("name", "kana", "gender", "occupation", "email", "is_admin", "registered")
MIN_ROWS = 10  # the original leaves empty rows to fill in by hand


def context(*, facility: dict | None = None, staff=(), date=None) -> dict:
    """`staff`: rows of STAFF_FIELDS; `is_admin` is the MCS administrator (*1), `registered`
    already on MCS (*2)."""
    return form(
        "besshi3",
        facility=pick(facility, FACILITY_FIELDS),
        staff=rows(staff, STAFF_FIELDS, MIN_ROWS),
        date=wareki(date),
    )


def for_roster(roster_request: RosterRequest) -> dict:
    facility = roster_request.facility
    staff = [
        {
            "name": row.name,
            "gender": str(row.get_gender_display()) if row.gender != "unspecified" else "",
            "occupation": str(row.get_occupation_display()),
            "email": row.email,
            "is_admin": row.is_mcs_admin,
            "registered": row.had_mcs_account,
        }
        for row in roster_request.rows.all()
    ]
    # Signed by the representative named on the request, else the facility's manager.
    signer = roster_request.representative_name or facility.manager_name
    return context(
        facility=facility_fields(facility, manager_name=signer),
        staff=staff,
        date=roster_request.applied_on,
    )


def _staff_rows(facility: Facility) -> list[dict]:
    """Every active member, with the MCS administrator flag (*1) and *2."""
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
    return [
        {
            "name": m.user.name,
            "kana": m.user.kana,
            "gender": m.user.get_gender_display() if m.user.gender in ("female", "male") else "",
            "occupation": m.user.get_occupation_display(),
            "email": m.user.email,
            "is_admin": m.user.pk in admins,
            "registered": bool(m.user.had_mcs_account),
        }
        for m in memberships
    ]


def for_facility(facility: Facility) -> dict:
    return context(facility=facility_fields(facility), staff=_staff_rows(facility))


def blank() -> dict:
    return context()


def sample(*, staff_count: int = 5) -> dict:
    return context(
        facility=samples.FACILITY,
        staff=samples.staff_rows(staff_count),
        date=samples.SAMPLE_DATE,
    )


TARGETS = facility_paper_targets(
    model="enrollment.RosterRequest",
    visible_to=rosters_printable_by,
    for_paper=for_roster,
    for_facility=for_facility,
)
