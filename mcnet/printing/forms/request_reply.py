"""別紙6 ご本人からの請求への回答書 (個人情報保護法 §33–35): the reply letter to the person who
asked, about the patient, saying what was done (or why not), dated in the Japanese era, with
the custodian facility and the network's contact.

Printed for a recorded request by who handles it (printing.permissions); not offered blank.
"""

from django.utils import timezone

from consents.models import PatientRequest
from mcnet.wareki import wareki

from ..permissions import patient_requests_printable_by
from ..targets import Target
from .base import form
from .disclosure import custodian, request_fields, request_label

# The patient's request, as the reply letter says what was done.
REPLY_SENTENCES = {
    "disclosure": "ご請求の保有個人データを、別添の「保有個人データの開示」のとおり開示いたします。",
    "correction": "ご請求のとおり、保有個人データを訂正いたしました。",
    "stop_use": "ご請求のとおり、保有個人データの利用を停止いたしました（同意の撤回）。",
    "deletion": "ご請求のとおり、保有個人データを消去いたしました。",
}
REJECTED_SENTENCE = "誠に恐れ入りますが、下記の理由により、ご請求に応じることができません。"
OPEN_SENTENCE = "ご請求の内容について、下記のとおりご報告いたします。"


def for_request(patient_request: PatientRequest) -> dict:
    state = patient_request.state
    if state == PatientRequest.State.REJECTED:
        sentence = REJECTED_SENTENCE
    else:
        sentence = REPLY_SENTENCES.get(patient_request.kind, OPEN_SENTENCE)
    return form(
        "request_reply",
        request=request_fields(patient_request),
        patient_name=patient_request.patient.name,
        custodian=custodian(patient_request),
        sentence=sentence,
        outcome=patient_request.outcome,
        rejected=state == PatientRequest.State.REJECTED,
        date=wareki(patient_request.replied_on or timezone.localdate()),
    )


def blank() -> dict:
    return form(
        "request_reply",
        request={"received_on": {"wareki": wareki(None)}},
        patient_name="",
        custodian={},
        sentence=OPEN_SENTENCE,
        outcome="",
        rejected=False,
        date=wareki(None),
    )


TARGETS = (
    Target(
        model="consents.PatientRequest",
        visible_to=patient_requests_printable_by,
        context=for_request,
        label=request_label,
    ),
)
