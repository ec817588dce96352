"""Permission expectations for the devices app's URLs (see expectations.py for the outcomes).

The demo objects are at 高田 ("user" is the nurse who filed them, "mcs_admin" is 高田's MCS
administrator). Another facility's administrator, the other users and the center get 404 (or
403 for a step they may see but not take); the center sees only escalated incidents.
POST actions are tried with valid data: success is a redirect back to the object.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, OK, REDIRECT, Expect, signed_in


def _outcomes(default: str = DENIED, **by_role) -> dict:
    return {**signed_in(default), "anonymous": LOGIN, **by_role}


def _device(label):
    def kwargs():
        from devices.models import Device

        return {"pk": Device.objects.get(facility__name="高田訪問看護ステーション", label=label).pk}

    return kwargs


def _takeout(state):
    def kwargs():
        from devices.models import TakeoutRequest

        return {
            "pk": TakeoutRequest.objects.filter(
                facility__name="高田訪問看護ステーション", state=state
            )
            .earliest("pk")
            .pk
        }

    return kwargs


def _loss():
    from devices.models import LossReport

    return {"pk": LossReport.objects.get(facility__name="高田訪問看護ステーション").pk}


def _incident():
    from devices.models import IncidentReport

    return {"pk": IncidentReport.objects.get(facility__name="高田訪問看護ステーション").pk}


def _leak():
    from devices.models import PrivacyLeak

    return {"pk": PrivacyLeak.objects.get(facility__name="高田訪問看護ステーション").pk}


def _leaver():
    # The demo has no leaver: 高田's nurse gets an open checklist (rolled back after each try).
    from devices.models import LeaverChecklist
    from facilities.models import Facility, User

    checklist, _created = LeaverChecklist.objects.get_or_create(
        facility=Facility.objects.get(name="高田訪問看護ステーション"),
        user=User.objects.get(email="nurse@takada.example.jp"),
        closed_at=None,
    )
    return {"pk": checklist.pk}


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


TABLET = _device("訪問用タブレット1号")
PENDING = _takeout("pending")
APPROVED = _takeout("approved")
# Every MCS administrator has a register of their own facility (empty or not).
REGISTER = _outcomes(mcs_admin=OK, other_mcs_admin=OK, group_manager=OK)
# Any staff member files requests and reports; the center has no facility to file from.
FILING = signed_in(OK) | {"center": DENIED}

EXPECTATIONS: dict = {
    "devices:index": Expect(signed_in(OK)),
    # The register (MCS administrator of the facility, art. 6 (2)).
    "devices:device_list": Expect(REGISTER),
    "devices:device_create": Expect(REGISTER),
    "devices:device_detail": Expect(_outcomes(mcs_admin=OK), kwargs=TABLET),
    "devices:device_edit": Expect(_outcomes(mcs_admin=OK), kwargs=TABLET),
    "devices:device_confirm": Expect(
        _outcomes(mcs_admin=REDIRECT),
        kwargs=TABLET,
        method="post",
        data={"items": ["antivirus_confirmed_on"]},
    ),
    "devices:device_state": Expect(_outcomes(mcs_admin=OK), kwargs=TABLET),
    # Take-out and BYOD requests (art. 12 (9)(10)).
    "devices:takeout_list": Expect(signed_in(OK)),
    "devices:takeout_create": Expect(FILING),
    "devices:takeout_detail": Expect(_outcomes(user=OK, mcs_admin=OK), kwargs=PENDING),
    # The requester sees it but may not approve their own (403); other facilities: 404.
    "devices:takeout_decide": Expect(
        _outcomes(mcs_admin=REDIRECT),
        kwargs=PENDING,
        method="post",
        data={"decision": "approve", "comment": ""},
    ),
    "devices:takeout_return": Expect(_outcomes(user=REDIRECT), kwargs=APPROVED, method="post"),
    "devices:takeout_withdraw": Expect(_outcomes(user=REDIRECT), kwargs=PENDING, method="post"),
    "printing:takeout_preview": Expect(_outcomes(user=OK, mcs_admin=OK), kwargs=APPROVED),
    # Loss and theft (art. 12 (11)).
    "devices:loss_list": Expect(signed_in(OK)),
    "devices:loss_create": Expect(FILING),
    "devices:loss_detail": Expect(_outcomes(user=OK, mcs_admin=OK), kwargs=_loss),
    "devices:loss_acknowledge": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_loss, method="post", data={"comment": "確認"}
    ),
    "devices:loss_close": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_loss, method="post", data={"outcome": "見つかった"}
    ),
    # Incidents (留意事項 4): the demo's is escalated, so the center sees it too.
    "devices:incident_list": Expect(signed_in(OK)),
    "devices:incident_create": Expect(FILING),
    "devices:incident_detail": Expect(
        _outcomes(user=OK, mcs_admin=OK, center=OK), kwargs=_incident
    ),
    "devices:incident_acknowledge": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_incident, method="post"
    ),
    "devices:incident_note": Expect(
        _outcomes(mcs_admin=REDIRECT, center=REDIRECT),
        kwargs=_incident,
        method="post",
        data={"note": "記録"},
    ),
    "devices:incident_escalate": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_incident, method="post", data={"note": "至急"}
    ),
    "devices:incident_close": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_incident, method="post", data={"outcome": "解決"}
    ),
    "devices:incident_restrict": Expect(_outcomes(mcs_admin=OK), kwargs=_incident),
    # 個人データの漏えい等 (個人情報保護法 §26): the facility's MCS administrator. The demo's
    # escalated incident is marked already (its mark page sends on to the record); the loss
    # report is not.
    "devices:leak_mark_incident": Expect(_outcomes(mcs_admin=REDIRECT), kwargs=_incident),
    "devices:leak_mark_loss": Expect(_outcomes(mcs_admin=OK), kwargs=_loss),
    "devices:leak_detail": Expect(_outcomes(mcs_admin=OK), kwargs=_leak),
    "devices:leak_report": Expect(
        _outcomes(mcs_admin=REDIRECT), kwargs=_leak, method="post", data={"overview": "概要"}
    ),
    "devices:leak_record": Expect(
        _outcomes(mcs_admin=REDIRECT),
        kwargs=_leak,
        method="post",
        data=lambda: {"stage": "preliminary", "reported_on": _today()},
    ),
    "devices:leak_notified": Expect(
        _outcomes(mcs_admin=REDIRECT),
        kwargs=_leak,
        method="post",
        data=lambda: {"notified_on": _today(), "how": "書面を郵送"},
    ),
    # The center: escalated incidents and counts only, and the open clocks' due dates.
    "devices:center_overview": Expect(_outcomes(center=OK)),
    "devices:leak_center": Expect(_outcomes(center=OK)),
    # Leavers (留意事項4): the facility's MCS administrators; the center sees the overdue ones.
    "devices:leaver_list": Expect(REGISTER),
    "devices:leaver_detail": Expect(_outcomes(mcs_admin=OK), kwargs=_leaver),
    "devices:leaver_confirm": Expect(
        _outcomes(mcs_admin=REDIRECT),
        kwargs=_leaver,
        method="post",
        data={"item": "duty_reminded"},
    ),
    "devices:leaver_center": Expect(_outcomes(center=OK)),
}
