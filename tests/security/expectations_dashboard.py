"""Permission expectations for the center's dashboard (/center/) and the audit viewer (/audit/).

The dashboard and the lists behind its numbers are the center's alone: everyone else, signed
in, is refused (403). The audit viewer is for the center and for MCS administrators (高田's and
ABC's administrators, and the care manager who is 春日野's MCS administrator); an ordinary
user and a facility manager who is not an MCS administrator are refused.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, OK, Expect, signed_in

CENTER_ONLY = {**signed_in(DENIED), "center": OK}
AUDIT_READERS = {
    "anonymous": LOGIN,
    "user": DENIED,
    "other_facility_user": DENIED,
    "mcs_admin": OK,
    "other_mcs_admin": OK,
    "group_manager": OK,
    "center": OK,
}

EXPECTATIONS = {
    "dashboard:index": Expect(CENTER_ONLY),
    "dashboard:compliance": Expect(CENTER_ONLY),
    "dashboard:risks": Expect(CENTER_ONLY),
    "dashboard:reviews": Expect(CENTER_ONLY, data={"state": "overdue"}),
    "dashboard:staff_gaps": Expect(CENTER_ONLY, data={"gap": "education"}),
    "dashboard:consents": Expect(CENTER_ONLY, data={"what": "recorded", "month": "2026-04"}),
    "dashboard:reports": Expect(CENTER_ONLY),
    "auditlog:index": Expect(AUDIT_READERS),
    "auditlog:export": Expect(AUDIT_READERS, data={"format": "csv"}),
}
