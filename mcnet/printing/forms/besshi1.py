"""別紙1 利用申込書: the facility applies to the network (第4条).

Printed for the application as filed (enrollment.Application) or, with no paper, for a
facility, by whoever may print the facility's papers (printing.permissions).
"""

from enrollment.models import Application
from facilities.models import Facility
from mcnet.wareki import wareki

from .. import samples
from ..permissions import applications_printable_by
from .base import FACILITY_FIELDS, facility_fields, facility_paper_targets, form, pick


def context(*, facility: dict | None = None, date=None) -> dict:
    return form("besshi1", facility=pick(facility, FACILITY_FIELDS), date=wareki(date))


def for_application(application: Application) -> dict:
    return context(facility=facility_fields(application), date=application.applied_on)


def for_facility(facility: Facility) -> dict:
    return context(facility=facility_fields(facility))


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(facility=samples.FACILITY, date=samples.SAMPLE_DATE)


TARGETS = facility_paper_targets(
    model="enrollment.Application",
    visible_to=applications_printable_by,
    for_paper=for_application,
    for_facility=for_facility,
)
