"""第7条 従事者誓約書: one staff member's pledge at one facility, items (1)–(5) of the version
in force (or the one the member confirmed), to sign.

Printed for a facility membership, for whoever may print it
(facilities.selectors.memberships_printable_by).
"""

from facilities.models import FacilityMembership
from facilities.selectors import memberships_printable_by
from mcnet.rulebook.models import Document
from mcnet.rulebook.selectors import version_in_force
from mcnet.wareki import wareki

from .. import samples
from ..targets import Target
from .base import form, pick, rule_text


def context(
    *, facility: dict | None = None, staff: dict | None = None, date=None, version=None
) -> dict:
    """Items of the version given, else of the version in force on the date (today for a
    blank pledge)."""
    return form(
        "staff_pledge",
        facility=pick(facility, ("name", "manager_name")),
        staff=pick(staff, ("name", "occupation")),
        date=wareki(date),
        rules=rule_text("staff_pledge", on=date, version=version),
    )


def for_membership(membership: FacilityMembership) -> dict:
    """A pledge on the version in force prints with its date; otherwise the version in force,
    to be signed and dated."""
    user, facility = membership.user, membership.facility
    pledge = user.pledges.filter(facility=facility).select_related("rule_version").first()
    current = version_in_force(Document.STAFF_PLEDGE)
    signed = pledge is not None and pledge.rule_version_id == current.pk and not pledge.waived
    return context(
        facility={"name": facility.name, "manager_name": facility.manager_name},
        staff={"name": user.name, "occupation": user.get_occupation_display()},
        date=pledge.signed_on if signed else None,
        version=current,
    )


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(
        facility=samples.FACILITY,
        staff={"name": samples.EXPLAINER["name"], "occupation": "介護支援専門員"},
        date=samples.SAMPLE_DATE,
    )


TARGETS = (
    Target(
        model="facilities.FacilityMembership",
        visible_to=lambda user: memberships_printable_by(user).select_related("user", "facility"),
        context=for_membership,
        label=lambda m: f"{m.user} @ {m.facility}",
    ),
)
