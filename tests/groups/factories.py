"""Building blocks for the groups and consents tests: demo objects by name, and new patients,
consents and groups made through the services (so the grants are the real ones)."""

import datetime as dt
import re

from consents import services as consent_services
from consents.models import Consent, Patient
from facilities.models import Facility, User
from groups import services
from groups.models import Group, Membership

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


def new_patient(*, manager: User, facility: Facility, name: str = "新潟三郎", **fields) -> Patient:
    fields.setdefault("kana", "にいがた さぶろう")
    fields.setdefault("birth_date", dt.date(1945, 5, 5))
    fields.setdefault("address", "新潟県上越市大手町1-1")
    fields.setdefault("phone", "025-555-0909")
    return consent_services.patient_register(actor=manager, facility=facility, name=name, **fields)


def new_consent(*, manager: User, patient: Patient, covered=None, **fields) -> Consent:
    facility = patient.facility
    fields.setdefault("signed_on", dt.date(2026, 5, 1))
    fields.setdefault("paper_kept_at_facility", True)
    return consent_services.consent_record(
        actor=manager,
        patient=patient,
        explainer_facility=facility,
        explainer_name=manager.name,
        covered_facilities=covered or Facility.objects.all(),
        **fields,
    )


def new_patient_group(*, manager: User, facility: Facility, name: str = "新潟三郎") -> Group:
    patient = new_patient(manager=manager, facility=facility, name=name)
    new_consent(manager=manager, patient=patient)
    return services.group_create_for_patient(actor=manager, patient=patient)


def add_member(group: Group, manager: User, member: User) -> Membership:
    invitation = services.membership_invite(actor=manager, group=group, user=member)
    return services.group_invitation_accept(actor=member, membership=invitation)
