"""The vocabulary of the permission matrix (deny by default).

Each app's section lists its URL names. A URL that is not listed here fails the matrix test,
so a new view cannot ship without someone deciding who may see it. Outcomes:

  OK        200
  LOGIN     302 to the login page (anonymous users)
  DENIED    403 or 404
  REDIRECT  302 somewhere else (a flow step that needs state, a form that only accepts POST)
  ADMIN_DENIED  302 to the admin login for non-staff (the admin's own gate, via allauth)
"""

from collections.abc import Callable
from dataclasses import dataclass, field

OK, LOGIN, DENIED, REDIRECT, ADMIN_DENIED, NOT_ALLOWED = (
    "ok",
    "login",
    "denied",
    "redirect",
    "admin_denied",
    "not_allowed",
)
# The people of tests/conftest.py ROLE_EMAILS, plus the anonymous visitor. "user" and
# "mcs_admin" work at 高田; "other_facility_user" and "other_mcs_admin" at ABC; the group
# manager is the care manager of 春日野 (also its MCS administrator).
ROLES = (
    "anonymous",
    "user",
    "other_facility_user",
    "mcs_admin",
    "other_mcs_admin",
    "group_manager",
    "center",
)


@dataclass(frozen=True)
class Expect:
    """The outcome per role of one URL. `kwargs` and `data` may be callables taking no
    argument, evaluated after the demo data is loaded (to find an object's pk). A POST is
    made when `method` is "post"; each request runs in a savepoint that is rolled back, so
    one expectation never changes what the next one sees."""

    outcomes: dict
    kwargs: Callable[[], dict] | dict = field(default_factory=dict)
    method: str = "get"
    data: Callable[[], dict] | dict = field(default_factory=dict)

    def for_role(self, role: str) -> str:
        return self.outcomes[role]


def everyone(outcome: str) -> dict:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: str, anonymous: str = LOGIN) -> dict:
    return {**everyone(outcome), "anonymous": anonymous}


__all__ = [
    "ADMIN_DENIED",
    "DENIED",
    "LOGIN",
    "NOT_ALLOWED",
    "OK",
    "REDIRECT",
    "ROLES",
    "Expect",
    "everyone",
    "signed_in",
]
