"""別紙4 利用登録変更・中止届書: staff added to or deleted from the network, or the facility
stopping altogether (第4条2 中止).

Printed for the notice as filed (enrollment.ChangeNotice) or, for a facility, its head with
the rows written by hand; by whoever may print the facility's papers (printing.permissions).
"""

from enrollment.models import ChangeNotice
from facilities.models import Facility
from mcnet.wareki import wareki

from .. import samples
from ..permissions import notices_printable_by
from .base import FACILITY_FIELDS, facility_fields, facility_paper_targets, form, pick, rows, text

CHANGE_FIELDS = ("kana", "name", "occupation", "email", "is_admin", "change")
MIN_ROWS = 4


def context(
    *, facility: dict | None = None, changes=(), date=None, stop: bool = False, reason: str = ""
) -> dict:
    """`changes`: rows of CHANGE_FIELDS (`change`: "add" or "delete"); `stop`: the facility
    stops using the network, with its reason."""
    return form(
        "besshi4",
        facility=pick(facility, FACILITY_FIELDS),
        changes=rows(changes, CHANGE_FIELDS, MIN_ROWS),
        date=wareki(date),
        stop=bool(stop),
        reason=text(reason),
    )


def for_notice(change_notice: ChangeNotice) -> dict:
    facility = change_notice.facility
    changes = [
        {
            "kana": row.kana,
            "name": row.name,
            "occupation": str(row.get_occupation_display()) if row.occupation else "",
            "email": row.email,
            "is_admin": row.is_mcs_admin,
            "change": row.action,
        }
        for row in change_notice.rows.all()
    ]
    signer = change_notice.signer_name or facility.manager_name
    return context(
        facility=facility_fields(facility, manager_name=signer),
        changes=changes,
        date=change_notice.notice_date,
        stop=change_notice.kind == ChangeNotice.Kind.STOP,
        reason=change_notice.reason,
    )


def for_facility(facility: Facility) -> dict:
    return context(facility=facility_fields(facility))


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(facility=samples.FACILITY, changes=samples.CHANGES, date=samples.SAMPLE_DATE)


TARGETS = facility_paper_targets(
    model="enrollment.ChangeNotice",
    visible_to=notices_printable_by,
    for_paper=for_notice,
    for_facility=for_facility,
)
