"""The demo network's objects, found by name (tests/conftest.py's `demo` loads them), and the
patient details that must not reach anyone outside a patient's care."""

import datetime as dt
import re

from consents.models import Patient
from facilities.models import User
from groups.models import Group, Membership

# A fixed moment to load the demo at (the `start` fixture) for tests that travel through weeks
# and months: the same 年度 and weekdays whatever day the suite runs.
DEMO_START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)

# 上越花子's details as the demo records them: none of these may reach someone who is not a
# member of her group.
JOETSU_DETAILS = ("上越花子", "ジョウエツ", "1942", "本町3-2-1", "025-555-0202", "上越一郎", "長男")
YAMADA_DOB_TEXTS = ("1938", "1938年4月12日")


def shown(text: str, body: str) -> bool:
    """Whether a patient's detail is in a page. A bare year ("1942") counts on its own only:
    inside a longer number or token (/groups/101942/, a CSRF token) it is not the birth year."""
    if text.isdigit():
        return re.search(rf"(?<![0-9A-Za-z]){text}(?![0-9A-Za-z])", body) is not None
    return text in body


def user(email: str) -> User:
    return User.objects.get(email=email)


def group_named(name: str) -> Group:
    return Group.objects.get(name=name)


def yamada_group() -> Group:
    return group_named("山田太郎さんのグループ")


def joetsu_group() -> Group:
    return group_named("上越花子さんのグループ")


def patient_named(name: str) -> Patient:
    return Patient.objects.get(name=name)


def membership(group: Group, email: str) -> Membership:
    return group.memberships.get(user__email=email, state__in=Membership.OPEN_STATES)
