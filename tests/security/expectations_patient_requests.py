"""Permission expectations for the patient's own requests (別紙6 ご本人の照会, 個人情報保護法
§33–35): the consents app's request pages and the printing app's disclosure package.

A request belongs to the custodians of the patient's record: the MCS administrators of the
facility holding it (春日野) and the managers of the patient's groups — in the demo both are
春日野's care manager (group_manager). Nobody else sees that a request exists: not the
patient's supporters at other facilities, not other administrators, not the center (which sees
counts on its dashboard only).
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, OK, REDIRECT, Expect, signed_in

CUSTODIAN_ONLY = {**signed_in(DENIED), "group_manager": OK}
CUSTODIAN_POSTS = {**signed_in(DENIED), "group_manager": REDIRECT}


def _cm():
    from facilities.models import User

    return User.objects.get(email="cm@kasugano.example.jp")


def _patient() -> dict:
    from consents.models import Patient

    return {"pk": Patient.objects.get(name="上越花子").pk}


def _demo_request() -> dict:
    """The demo's open disclosure request (受付: identity still to be checked)."""
    from consents.models import PatientRequest

    return {"pk": PatientRequest.objects.get(patient__name="上越花子", state="received").pk}


def _verified(kind: str):
    def make() -> dict:
        import datetime as dt

        from consents import services
        from consents.models import Patient

        cm = _cm()
        patient_request = services.patient_request_receive(
            actor=cm,
            patient=Patient.objects.get(name="山田太郎"),
            kind=kind,
            requester_kind="patient",
            requester_name="山田太郎",
            received_on=dt.date.today() - dt.timedelta(days=1),
        )
        services.patient_request_verify_identity(
            actor=cm, patient_request=patient_request, document="drivers_license"
        )
        return {"pk": patient_request.pk}

    return make


def _disclosure_document() -> dict:
    from consents.models import PatientRequest
    from mcnet.printing import registry, services

    patient_request = PatientRequest.objects.get(pk=_verified("disclosure")()["pk"])
    document = services.document_request_for(
        actor=_cm(),
        code="disclosure",
        target=registry.get("disclosure").target_for(PatientRequest),
        obj=patient_request,
    )
    return {"pk": document.pk}


EXPECTATIONS: dict = {
    # Scoped: each custodian sees their facility's requests, everyone else an empty list.
    "consents:patient_request_list": Expect(signed_in(OK)),
    "consents:patient_request_create": Expect(CUSTODIAN_ONLY, kwargs=_patient),
    "consents:patient_request_detail": Expect(CUSTODIAN_ONLY, kwargs=_demo_request),
    "consents:patient_request_verify": Expect(CUSTODIAN_ONLY, kwargs=_demo_request),
    "consents:patient_request_close": Expect(CUSTODIAN_ONLY, kwargs=_demo_request),
    "consents:patient_request_correct": Expect(CUSTODIAN_ONLY, kwargs=_verified("correction")),
    "consents:patient_request_stop_use": Expect(CUSTODIAN_ONLY, kwargs=_verified("stop_use")),
    "consents:patient_request_erase": Expect(CUSTODIAN_ONLY, kwargs=_verified("deletion")),
    "printing:patient_request_disclosure": Expect(
        CUSTODIAN_POSTS, kwargs=_verified("disclosure"), method="post"
    ),
    "printing:data": Expect(CUSTODIAN_ONLY, kwargs=_disclosure_document),
}
