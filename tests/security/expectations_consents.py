"""Permission expectations for the consents app's URLs (see expectations.py for the outcomes).

The demo's patients are registered at 春日野 by its care manager (group_manager). 山田太郎's
group has the ABC doctor (other_facility_user) and the 高田 nurse (user) as members; 高田's
MCS administrator (mcs_admin) is only invited. Consents are for those who handle the paper:
the patient-group managers of the registering facility.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, OK, Expect, signed_in


def _patient(name: str = "山田太郎") -> dict:
    from consents.models import Patient

    return {"pk": Patient.objects.get(name=name).pk}


def _consent(name: str = "山田太郎") -> dict:
    from consents.models import Consent

    return {"pk": Consent.objects.get(patient__name=name, status="active").pk}


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
}
