"""Permission expectations for the rules' versions (第15条), the staff pledge (第7条) and a
facility's own rules (第14条).

Everyone signed in reads the rules in force; only the center publishes a new version and sees
who agreed only to an older one. A staff member confirms their own pledge at a facility where
they work (高田: "user" and "mcs_admin"); a facility's own rules are read by its staff and
published by its facility manager (高田's "mcs_admin"); everyone else gets 404.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, OK, REDIRECT, Expect, signed_in
from .expectations_facilities import _takada, takada_admin


def _pledge_version() -> dict:
    from mcnet.rulebook.selectors import version_in_force

    return {"version": version_in_force("staff_pledge").pk, "confirm": "on"}


def _rules_source() -> dict:
    return {
        "source": "（見本）\n第１条　見本の定め。\n",
        "summary": "見本",
        "approved_on": "2026-12-01",
        "effective_on": "2026-12-01",
        "confirm": "on",
    }


TAKADA_STAFF = {**signed_in(DENIED), "user": OK, "mcs_admin": OK}
CENTER_ONLY = {**signed_in(DENIED), "center": OK}

EXPECTATIONS = {
    "rulebook:index": Expect(signed_in(OK)),
    "rulebook:document": Expect(signed_in(OK), kwargs={"document": "besshi2"}),
    "rulebook:publish": Expect(CENTER_ONLY, kwargs={"document": "rules"}),
    "dashboard:agreements": Expect(CENTER_ONLY),
    # Every signed-in person has the page (the center's staff see that they work nowhere).
    "facilities:my_pledge": Expect(signed_in(OK)),
    "facilities:pledge_confirm": Expect(
        {**TAKADA_STAFF, "user": REDIRECT, "mcs_admin": REDIRECT},
        kwargs=_takada,
        method="post",
        data=_pledge_version,
    ),
    "facilities:facility_rules": Expect(TAKADA_STAFF, kwargs=_takada),
    "facilities:facility_rules_publish": Expect(
        takada_admin(REDIRECT), kwargs=_takada, method="post", data=_rules_source
    ),
}
