"""第12条(9)(10): 情報及び情報機器の持ち出し届, or 個人所有端末の業務利用届 (BYOD).

Printed for a take-out or BYOD request (devices.TakeoutRequest), for whoever may see it
(devices.selectors.takeouts_visible_to); its preview page (printing:takeout_preview) shows
the same template filled by `for_request`.
"""

from devices.models import Device, TakeoutRequest
from devices.selectors import check_cutoff, takeouts_visible_to
from mcnet.wareki import wareki

from .. import samples
from ..targets import Target
from .base import filed_label, form, local_day, text

TITLE = "情報及び情報機器の持ち出し届"
BYOD_TITLE = "個人所有端末の業務利用届（BYOD）"
# The device's art. 12 checks, as the form lists them: (key, the device's field, label).
CHECKLIST_ITEMS = (
    (
        "boot_password",
        "boot_password_confirmed_on",
        "起動時パスワード（英数混合8文字以上）を設定している（第12条(1)）",
    ),
    (
        "no_file_sharing",
        "no_unapproved_software_confirmed_on",
        "定められた以外のアプリケーション（ファイル交換ソフト等）を入れていない（第12条(2)）",
    ),
    ("antivirus", "antivirus_confirmed_on", "適切なウイルス対策を施している（第12条(3)）"),
    (
        "browser_no_password",
        "browser_no_saved_password_confirmed_on",
        "ブラウザに ID・パスワードを記憶させていない（第12条(4)）",
    ),
    ("screen_lock", "screen_lock_confirmed_on", "端末にロックをかけている（第11条(6)）"),
    (
        "mdm_considered",
        "mdm_considered_on",
        "端末管理・利用者管理（MDM）サービスの利用を検討した（第12条(8)）",
    ),
)


def context(
    *,
    title: str = "",
    facility: str = "",
    requester_name: str = "",
    requester_occupation: str = "",
    kind: str = "",
    device: str = "",
    information: str = "",
    medium: str = "",
    purpose: str = "",
    period_start=None,
    period_end=None,
    requested_on=None,
    checklist: dict | None = None,
    decision: str = "",
    decided_on=None,
    approver_name: str = "",
    decision_note: str = "",
) -> dict:
    """`kind`: "facility" or "byod" (第12条(10)); `decision`: "approved", "rejected" or ""
    (not decided yet); `checklist`: key -> confirmed (None: left to tick by hand)."""
    checklist = checklist or {}
    kind = text(kind)
    return form(
        "takeout",
        title=text(title) or (BYOD_TITLE if kind == "byod" else TITLE),
        facility=text(facility),
        requester_name=text(requester_name),
        requester_occupation=text(requester_occupation),
        kind=kind,
        device=text(device),
        information=text(information),
        medium=text(medium),
        purpose=text(purpose),
        period_start=wareki(period_start),
        period_end=wareki(period_end),
        requested_on=wareki(requested_on),
        checklist=[
            {"label": label, "checked": checklist.get(key)} for key, _, label in CHECKLIST_ITEMS
        ],
        decision=text(decision),
        decided_on=wareki(decided_on),
        approver_name=text(approver_name),
        decision_note=text(decision_note),
    )


def _checklist(device: Device | None) -> dict[str, bool]:
    """Each check confirmed within its interval (第12条: checked again before the cutoff)."""
    if device is None:
        return {}
    cutoff = check_cutoff()
    return {
        key: bool(getattr(device, field)) and getattr(device, field) >= cutoff
        for key, field, _ in CHECKLIST_ITEMS
    }


def _decision(request_obj: TakeoutRequest) -> str:
    if request_obj.state in (TakeoutRequest.State.APPROVED, TakeoutRequest.State.RETURNED):
        return "approved"
    if request_obj.state == TakeoutRequest.State.REJECTED:
        return "rejected"
    return ""


def for_request(request_obj: TakeoutRequest) -> dict:
    byod = request_obj.kind == TakeoutRequest.Kind.BYOD
    requester, device, approver = request_obj.requester, request_obj.device, request_obj.decided_by
    return context(
        title=BYOD_TITLE if byod else TITLE,
        facility=request_obj.facility.name,
        requester_name=requester.name or requester.email,
        requester_occupation=str(requester.get_occupation_display()),
        kind="byod" if byod else "facility",
        device=str(device) if device else request_obj.personal_device,
        information=request_obj.information,
        medium=request_obj.medium,
        purpose=request_obj.purpose,
        period_start=request_obj.period_start,
        period_end=request_obj.period_end,
        requested_on=local_day(request_obj.created_at),
        checklist=_checklist(device),
        decision=_decision(request_obj),
        decided_on=local_day(request_obj.decided_at),
        approver_name=(approver.name or approver.email) if approver else "",
        decision_note=request_obj.decision_comment,
    )


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(**samples.TAKEOUT, requested_on=samples.SAMPLE_DATE)


TARGETS = (
    Target(
        model="devices.TakeoutRequest",
        visible_to=takeouts_visible_to,
        context=for_request,
        label=filed_label,
    ),
)
