"""Permission expectations for the consents app's URLs (see expectations.py for the outcomes).

The demo's patients are registered at 春日野 by its care manager (group_manager). 山田太郎's
group has the ABC doctor (other_facility_user) and the 高田 nurse (user) as members; 高田's
MCS administrator (mcs_admin) is only invited. Consents are for those who handle the paper:
the patient-group managers of the registering facility.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, OK, REDIRECT, Expect, signed_in


def _patient(name: str = "山田太郎") -> dict:
    from consents.models import Patient

    return {"pk": Patient.objects.get(name=name).pk}


def _consent(name: str = "山田太郎") -> dict:
    from consents.models import Consent

    return {"pk": Consent.objects.get(patient__name=name, status="active").pk}


def _addendum() -> dict:
    from consents.models import ConsentAddendum

    return {"pk": ConsentAddendum.objects.get(consent__patient__name="山田太郎").pk}


def _academic() -> dict:
    from consents.models import AcademicUseConsent

    return {"pk": AcademicUseConsent.objects.get(patient__name="山田太郎", status="active").pk}


def manager_only(ok: str = OK) -> dict:
    return {**signed_in(DENIED), "group_manager": ok}


# Members of 山田太郎's group see him; the invitee, other administrators and the center do not.
MEMBERS_OF_YAMADA = {
    "anonymous": LOGIN,
    "user": OK,
    "other_facility_user": OK,
    "mcs_admin": DENIED,
    "other_mcs_admin": DENIED,
    "group_manager": OK,
    "center": DENIED,
}

EXPECTATIONS: dict = {
    "consents:patient_list": Expect(signed_in(OK)),  # scoped: each sees only their patients
    "consents:patient_create": Expect(manager_only()),
    "consents:patient_detail": Expect(MEMBERS_OF_YAMADA, kwargs=_patient),
    "consents:patient_edit": Expect(manager_only(), kwargs=_patient),
    "consents:consent_create": Expect(manager_only(), kwargs=_patient),
    "consents:consent_detail": Expect(manager_only(), kwargs=_consent),
    # The demo's consents are kept on paper: no scan to stream, even for the manager (a test
    # in tests/consents streams one).
    "consents:consent_scan": Expect(signed_in(DENIED), kwargs=_consent),
    "consents:consent_facilities": Expect(manager_only(), kwargs=_consent),
    "consents:consent_withdraw": Expect(manager_only(), kwargs=_consent),
    "consents:consent_error": Expect(manager_only(), kwargs=_consent),
    # Access ends with care: 妙高次郎's group is archived (death). Only his record's custodians
    # (春日野's MCS administrator, the group's manager: both group_manager here) are asked the
    # purpose of opening it; for everyone else it does not exist. 山田太郎's care goes on: there
    # is nothing to open with a purpose.
    "consents:record_open": Expect(
        {**signed_in(DENIED), "group_manager": OK}, kwargs=lambda: _patient("妙高次郎")
    ),
    # 追加同意書 and the academic-use consent: the paper's handlers only (別紙7).
    "consents:addendum_create": Expect(manager_only(), kwargs=_consent),
    "consents:addendum_detail": Expect(manager_only(), kwargs=_addendum),
    # The demo's addendum is signed already: nothing left to sign or cancel.
    "consents:addendum_sign": Expect(signed_in(DENIED), kwargs=_addendum),
    "consents:addendum_cancel": Expect(manager_only(REDIRECT), kwargs=_addendum, method="post"),
    "consents:addendum_scan": Expect(signed_in(DENIED), kwargs=_addendum),  # paper kept
    # 山田太郎 has consented to academic use already: a second record is not offered.
    "consents:academic_create": Expect(manager_only(OK), kwargs=lambda: _patient("上越花子")),
    "consents:academic_withdraw": Expect(manager_only(), kwargs=_academic),
}
