"""Every write of the devices app: one transaction, one audit event, notifications on commit.

Permission checks are repeated here (not only in the views): a service called from a task, the
shell or another app keeps the same rules. A refusal raises PermissionDenied with a message the
page shows; a state that does not allow the step raises ValidationError.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from facilities.models import CENTER_STAFF_GROUP, Facility, User
from facilities.services import user_restrict
from mcnet.audit import AuditAction, audit_record
from mcnet.models import NetworkSettings
from mcnet.notifications import notify
from mcnet.services import model_update, model_update_audited

from . import permissions, selectors
from .models import (
    CHECKLIST_FIELDS,
    Device,
    IncidentEvent,
    IncidentReport,
    LeaverChecklist,
    LossReport,
    PrivacyLeak,
    TakeoutRequest,
)

DEVICE_FIELDS = ("kind", "ownership", "label", "assigned_user", "note", *CHECKLIST_FIELDS)


def _require_manager(actor, facility_id: int) -> None:
    if not permissions.is_device_manager(actor, facility_id):
        raise PermissionDenied(_("この事業所のMCS管理者だけが行えます。"))


def _require_member(actor, facility: Facility) -> None:
    if not selectors.member_facilities(actor).filter(pk=facility.pk).exists():
        raise PermissionDenied(_("所属している事業所についてだけ届け出ることができます。"))


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _changes(fields: dict) -> dict:
    return {
        k: (v.pk if hasattr(v, "pk") else str(v) if v is not None else None)
        for k, v in fields.items()
    }


def _check_assignee(facility: Facility, user: User | None) -> None:
    if (
        user is not None
        and not selectors.facility_members([facility.pk]).filter(pk=user.pk).exists()
    ):
        raise ValidationError({"assigned_user": _("使用者はこの事業所の職員から選んでください。")})


# --- the device register (art. 6 (2), art. 12) ------------------------------------------------
@transaction.atomic
def device_register(*, actor, facility: Facility, **fields) -> Device:
    _require_manager(actor, facility.pk)
    unknown = set(fields) - set(DEVICE_FIELDS)
    if unknown:
        raise TypeError(f"unknown device fields: {sorted(unknown)}")
    _check_assignee(facility, fields.get("assigned_user"))
    device = Device.objects.create(facility=facility, **fields)
    audit_record(
        actor=actor, action=AuditAction.DEVICE_REGISTER, target=device, changes=_changes(fields)
    )
    return device


@transaction.atomic
def device_update(*, actor, device: Device, **fields) -> Device:
    _require_manager(actor, device.facility_id)
    device = _locked(Device, device.pk)
    _check_assignee(device.facility, fields.get("assigned_user"))
    device, _changed = model_update_audited(
        actor=actor,
        action=AuditAction.DEVICE_UPDATE,
        instance=device,
        fields=DEVICE_FIELDS,
        data=fields,
    )
    return device


@transaction.atomic
def device_checklist_confirm(*, actor, device: Device, items, on: dt.date | None = None) -> Device:
    """Record that the administrator confirmed these checklist items today (or on `on`)."""
    _require_manager(actor, device.facility_id)
    items = [item for item in items if item in CHECKLIST_FIELDS]
    if not items:
        raise ValidationError(_("確認した項目を1つ以上選んでください。"))
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError(_("確認日に未来の日付は指定できません。"))
    device = _locked(Device, device.pk)
    if device.state != Device.State.IN_USE:
        raise ValidationError(_("使用中の機器だけ確認できます。"))
    for item in items:
        setattr(device, item, on)
    device.save(update_fields=[*items, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_CHECKLIST_CONFIRM,
        target=device,
        changes={"items": items, "on": on.isoformat()},
    )
    return device


@transaction.atomic
def device_state_change(
    *,
    actor,
    device: Device,
    state: str,
    erase_method: str = "",
    erased_on: dt.date | None = None,
    note: str = "",
    erased_by: str = "",
) -> Device:
    """In use / lost / returned / disposed. 第12条(13): a return records the erasure by erase
    software, a disposal the physical destruction of the disk, each with who and when."""
    _require_manager(actor, device.facility_id)
    if state not in Device.State.values:
        raise ValidationError({"state": _("状態を選んでください。")})
    if erase_method and erase_method not in Device.EraseMethod.values:
        raise ValidationError({"erase_method": _("データ消去の方法を選んでください。")})
    erased_by = (erased_by or "").strip()
    _check_erasure(state=state, erase_method=erase_method, erased_by=erased_by, erased_on=erased_on)
    device = _locked(Device, device.pk)
    if device.state == Device.State.DISPOSED:
        raise ValidationError(_("廃棄済みの機器の状態は変更できません。"))
    before = device.state
    device.state = state
    device.state_changed_at = timezone.now()
    if erase_method:
        device.erase_method = erase_method
        device.erased_on = erased_on or timezone.localdate()
        device.erased_by = erased_by[:100]
    if note:
        device.note = f"{device.note}\n{note}".strip()
    device.save()
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_STATE,
        target=device,
        changes={
            "from": before,
            "to": state,
            "erase_method": erase_method,
            "erased_by": erased_by,
            "erased_on": device.erased_on.isoformat() if erase_method else None,
            "note": note,
        },
    )
    return device


# 第12条(13): what each end of a device's life requires of its data.
ERASURE_REQUIRED = {
    Device.State.RETURNED: Device.EraseMethod.ERASE_SOFTWARE,
    Device.State.DISPOSED: Device.EraseMethod.PHYSICAL_DESTRUCTION,
}


def _check_erasure(*, state: str, erase_method: str, erased_by: str, erased_on) -> None:
    required = ERASURE_REQUIRED.get(state)
    if required is None:
        return
    if erase_method != required:
        message = (
            _(
                "返却するときは、消去ソフトでハードディスク内の情報を完全に消去したことを"
                "記録してください（第12条(13)）。"
            )
            if state == Device.State.RETURNED
            else _(
                "廃棄するときは、ハードディスクを物理的に破壊したことを記録してください"
                "（第12条(13)）。消去ソフトでの消去だけでは廃棄できません。"
            )
        )
        raise ValidationError({"erase_method": message})
    if not erased_by:
        raise ValidationError(
            {"erased_by": _("消去・破壊を行った人（または業者）を入力してください（第12条(13)）。")}
        )
    if erased_on is not None and erased_on > timezone.localdate():
        raise ValidationError({"erased_on": _("未来の日付は指定できません。")})


# --- take-out and BYOD requests (art. 12 (9)(10)) ----------------------------------------------
def _takeout_url(request_obj) -> str:
    return reverse("devices:takeout_detail", kwargs={"pk": request_obj.pk})


@transaction.atomic
def takeout_file(
    *,
    actor,
    facility: Facility,
    kind: str,
    information: str,
    medium: str,
    purpose: str,
    period_start: dt.date,
    period_end: dt.date,
    device: Device | None = None,
    personal_device: str = "",
) -> TakeoutRequest:
    """A user files a request; the facility's MCS administrator (or, for an administrator's own
    request, whoever may decide it) is told."""
    _require_member(actor, facility)
    errors = {}
    if period_end < period_start:
        errors["period_end"] = _("終了日は開始日以降の日付にしてください。")
    if kind == TakeoutRequest.Kind.BYOD and not (personal_device or device):
        errors["personal_device"] = _("BYODの届出では、使用する個人所有端末を記入してください。")
    if device is not None and (
        device.facility_id != facility.pk or device.assigned_user_id != actor.pk
    ):
        errors["device"] = _("あなたに割り当てられたこの事業所の機器から選んでください。")
    if errors:
        raise ValidationError(errors)
    request_obj = TakeoutRequest.objects.create(
        facility=facility,
        requester=actor,
        kind=kind,
        information=information,
        medium=medium,
        purpose=purpose,
        period_start=period_start,
        period_end=period_end,
        device=device,
        personal_device=personal_device,
    )
    audit_record(
        actor=actor,
        action=AuditAction.TAKEOUT_FILE,
        target=request_obj,
        changes={
            "kind": kind,
            "period": f"{period_start.isoformat()}..{period_end.isoformat()}",
            "medium": medium,
        },
    )
    notify(
        recipients=permissions.takeout_deciders(request_obj),
        kind="devices.takeout_filed",
        title=_("%(name)sさんから%(kind)sの届出があります")
        % {"name": actor.name or actor.email, "kind": request_obj.get_kind_display()},
        body=_("期間: %(start)s〜%(end)s\n目的: %(purpose)s")
        % {"start": period_start, "end": period_end, "purpose": purpose},
        url=_takeout_url(request_obj),
        reason=_("%(facility)sの持ち出し・BYODを承認する立場にあるため（第12条(9)(10)）")
        % {"facility": facility.name},
    )
    return request_obj


def check_can_decide(*, actor, request_obj: TakeoutRequest) -> None:
    """Refuse, with the reason, whoever may not approve or reject this request."""
    if actor.pk == request_obj.requester_id:
        raise PermissionDenied(
            _(
                "ご自身の届出を承認・却下することはできません。"
                "同じ事業所の他のMCS管理者または事業所管理者が判断します。"
            )
        )
    if not permissions.can_decide_takeout(actor, request_obj):
        raise PermissionDenied(_("この届出を承認・却下できるのは、事業所のMCS管理者です。"))


@transaction.atomic
def takeout_decide(
    *, actor, request_obj: TakeoutRequest, approve: bool, comment: str = ""
) -> TakeoutRequest:
    """Approve or reject. Never one's own request, never another facility's."""
    request_obj = _locked(TakeoutRequest, request_obj.pk)
    check_can_decide(actor=actor, request_obj=request_obj)
    if request_obj.state != TakeoutRequest.State.PENDING:
        raise ValidationError(_("この届出はすでに処理されています。"))
    if not approve and not comment.strip():
        raise ValidationError({"comment": _("却下するときは理由をコメントに書いてください。")})
    if approve and request_obj.kind == TakeoutRequest.Kind.BYOD:
        _check_byod_device(request_obj)
    request_obj.state = TakeoutRequest.State.APPROVED if approve else TakeoutRequest.State.REJECTED
    request_obj.decided_by = actor
    request_obj.decided_at = timezone.now()
    request_obj.decision_comment = comment.strip()
    request_obj.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
    audit_record(
        actor=actor,
        action=AuditAction.TAKEOUT_APPROVE if approve else AuditAction.TAKEOUT_REJECT,
        target=request_obj,
        changes={"comment": request_obj.decision_comment},
    )
    title = (
        _("持ち出し・BYODの届出が承認されました")
        if approve
        else _("持ち出し・BYODの届出が却下されました")
    )
    notify(
        recipients=[request_obj.requester],
        kind="devices.takeout_decided",
        title=title,
        body=request_obj.decision_comment,
        url=_takeout_url(request_obj),
        reason=_("あなたが届け出た持ち出し・BYODの届出の結果です"),
    )
    return request_obj


def _check_byod_device(request_obj: TakeoutRequest) -> None:
    """第12条(10): BYOD is run like (9), and the device meets the checklist of 第12条: the
    personal device is in the register with every item confirmed within the interval."""
    device = request_obj.device
    if device is None:
        raise ValidationError(
            _(
                "BYODを承認するには、使用する個人所有端末を機器台帳に登録し、チェックリストを"
                "確認してください（第12条(10)）。"
            )
        )
    if device.check_overdue(selectors.check_cutoff()):
        raise ValidationError(
            _(
                "端末「%(label)s」のチェックリストに、%(days)d日以内に確認されていない項目が"
                "あります。機器台帳で確認してから承認してください（第12条(10)）。"
            )
            % {"label": device.label, "days": NetworkSettings.load().device_check_interval_days}
        )


@transaction.atomic
def takeout_mark_returned(*, actor, request_obj: TakeoutRequest) -> TakeoutRequest:
    """The requester says the information and device are back (the take-out is no longer active)."""
    request_obj = _locked(TakeoutRequest, request_obj.pk)
    if actor.pk != request_obj.requester_id:
        raise PermissionDenied(_("返却の報告は届出者本人が行います。"))
    if request_obj.state != TakeoutRequest.State.APPROVED:
        raise ValidationError(_("承認済みで返却前の届出だけ返却を報告できます。"))
    request_obj.state = TakeoutRequest.State.RETURNED
    request_obj.returned_at = timezone.now()
    request_obj.save(update_fields=["state", "returned_at"])
    audit_record(actor=actor, action=AuditAction.TAKEOUT_RETURN, target=request_obj)
    notify(
        recipients=selectors.device_managers_of(request_obj.facility_id),
        kind="devices.takeout_returned",
        title=_("%(name)sさんが持ち出しの返却を報告しました") % {"name": actor.name or actor.email},
        url=_takeout_url(request_obj),
        reason=_("%(facility)sのMCS管理者として持ち出しを管理しているため")
        % {"facility": request_obj.facility.name},
    )
    return request_obj


@transaction.atomic
def takeout_withdraw(*, actor, request_obj: TakeoutRequest) -> TakeoutRequest:
    request_obj = _locked(TakeoutRequest, request_obj.pk)
    if actor.pk != request_obj.requester_id:
        raise PermissionDenied(_("取り下げは届出者本人が行います。"))
    if request_obj.state != TakeoutRequest.State.PENDING:
        raise ValidationError(_("承認待ちの届出だけ取り下げられます。"))
    request_obj.state = TakeoutRequest.State.WITHDRAWN
    request_obj.save(update_fields=["state"])
    audit_record(actor=actor, action=AuditAction.TAKEOUT_WITHDRAW, target=request_obj)
    return request_obj


# --- loss and theft (art. 12 (11)) --------------------------------------------------------------
def _tell_reporter(report, *, kind: str, title: str, body: str, url: str) -> None:
    """The reporter hears of each step (留意事項 4: they follow the administrator's instructions)."""
    notify(
        recipients=[report.reporter],
        kind=kind,
        title=title,
        body=body,
        url=url,
        reason=_(
            "あなたが報告した内容についてのお知らせです。MCS管理者の指示に従ってください"
            "（第12条(11)、留意事項4）"
        ),
    )


def _loss_url(report) -> str:
    return reverse("devices:loss_detail", kwargs={"pk": report.pk})


def _mark_device_lost(*, actor, device: Device, report: LossReport) -> None:
    device = _locked(Device, device.pk)
    if device.state == Device.State.LOST:
        return
    before = device.state
    device.state = Device.State.LOST
    device.state_changed_at = timezone.now()
    device.save(update_fields=["state", "state_changed_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_STATE,
        target=device,
        changes={"from": before, "to": Device.State.LOST, "loss_report": report.pk},
    )


@transaction.atomic
def loss_report_file(
    *,
    actor,
    facility: Facility,
    kind: str,
    device_description: str,
    occurred_at: dt.datetime,
    place: str,
    contents: str,
    password_changed: bool,
    carrier_contacted: str,
    device: Device | None = None,
) -> LossReport:
    """A user reports a lost or stolen device; the MCS administrators are alerted at once."""
    _require_member(actor, facility)
    if device is not None and (
        device.facility_id != facility.pk or device.assigned_user_id != actor.pk
    ):
        raise ValidationError(
            {"device": _("あなたに割り当てられたこの事業所の機器から選んでください。")}
        )
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("日時に未来は指定できません。")})
    report = LossReport.objects.create(
        facility=facility,
        reporter=actor,
        kind=kind,
        device=device,
        device_description=device_description,
        occurred_at=occurred_at,
        place=place,
        contents=contents,
        password_changed=password_changed,
        carrier_contacted=carrier_contacted,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LOSS_REPORT,
        target=report,
        changes={
            "kind": kind,
            "device": device.pk if device else device_description,
            "password_changed": password_changed,
            "carrier_contacted": carrier_contacted,
        },
    )
    if device is not None:
        _mark_device_lost(actor=actor, device=device, report=report)
    notify(
        recipients=selectors.device_managers_of(facility.pk),
        kind="devices.loss_reported",
        title=_("【至急】%(name)sさんから機器の%(kind)sの報告があります")
        % {"name": actor.name or actor.email, "kind": report.get_kind_display()},
        body=_(
            "機器: %(device)s\n場所: %(place)s\nパスワード変更: %(pw)s\n"
            "携帯電話会社への依頼: %(carrier)s"
        )
        % {
            "device": device_description,
            "place": place,
            "pw": _("済み") if password_changed else _("未了"),
            "carrier": report.get_carrier_contacted_display(),
        },
        url=_loss_url(report),
        reason=_("%(facility)sのMCS管理者は紛失・盗難の報告を受けるため（第12条(11)）")
        % {"facility": facility.name},
    )
    return report


@transaction.atomic
def loss_report_acknowledge(
    *, actor, report: LossReport, comment: str = "", device: Device | None = None
) -> LossReport:
    """The MCS administrator has seen it (and may name the registered device that was lost)."""
    _require_manager(actor, report.facility_id)
    report = _locked(LossReport, report.pk)
    if report.state != LossReport.State.REPORTED:
        raise ValidationError(_("この報告はすでに確認されています。"))
    if device is not None and device.facility_id != report.facility_id:
        raise ValidationError({"device": _("この事業所の機器から選んでください。")})
    report.state = LossReport.State.ACKNOWLEDGED
    report.acknowledged_by = actor
    report.acknowledged_at = timezone.now()
    report.admin_comment = comment.strip()
    fields = ["state", "acknowledged_by", "acknowledged_at", "admin_comment"]
    if device is not None and report.device_id is None:
        report.device = device
        fields.append("device")
    report.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.LOSS_ACKNOWLEDGE,
        target=report,
        changes={"comment": comment},
    )
    if report.device_id:
        _mark_device_lost(actor=actor, device=report.device, report=report)
    _tell_reporter(
        report,
        kind="devices.loss_acknowledged",
        title=_("紛失・盗難の報告をMCS管理者が確認しました"),
        body=report.admin_comment,
        url=_loss_url(report),
    )
    return report


@transaction.atomic
def loss_report_close(*, actor, report: LossReport, outcome: str) -> LossReport:
    _require_manager(actor, report.facility_id)
    report = _locked(LossReport, report.pk)
    if report.state != LossReport.State.ACKNOWLEDGED:
        raise ValidationError(_("確認済みの報告だけ完了にできます。先に確認してください。"))
    if not outcome.strip():
        raise ValidationError({"outcome": _("対応結果を記入してください。")})
    report.state = LossReport.State.CLOSED
    report.outcome = outcome.strip()
    report.closed_by = actor
    report.closed_at = timezone.now()
    report.save(update_fields=["state", "outcome", "closed_by", "closed_at"])
    audit_record(
        actor=actor, action=AuditAction.LOSS_CLOSE, target=report, changes={"outcome": outcome}
    )
    _tell_reporter(
        report,
        kind="devices.loss_closed",
        title=_("紛失・盗難の報告の対応が完了しました"),
        body=report.outcome,
        url=_loss_url(report),
    )
    return report


# --- incidents (留意事項 4) ---------------------------------------------------------------------
def _incident_url(incident) -> str:
    return reverse("devices:incident_detail", kwargs={"pk": incident.pk})


def _event(incident, actor, action: str, note: str = "") -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        note=note,
    )


def _require_open(incident: IncidentReport) -> None:
    if incident.state == IncidentReport.State.CLOSED:
        raise ValidationError(_("完了した報告は変更できません。"))


@transaction.atomic
def incident_file(
    *, actor, facility: Facility, kind: str, occurred_at: dt.datetime, description: str
) -> IncidentReport:
    _require_member(actor, facility)
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("日時に未来は指定できません。")})
    incident = IncidentReport.objects.create(
        facility=facility,
        reporter=actor,
        kind=kind,
        occurred_at=occurred_at,
        description=description,
    )
    _event(incident, actor, IncidentEvent.Action.REPORTED, description)
    audit_record(
        actor=actor, action=AuditAction.INCIDENT_REPORT, target=incident, changes={"kind": kind}
    )
    notify(
        recipients=selectors.device_managers_of(facility.pk),
        kind="devices.incident_reported",
        title=_("【至急】%(name)sさんから%(kind)sの報告があります")
        % {"name": actor.name or actor.email, "kind": incident.get_kind_display()},
        body=description,
        url=_incident_url(incident),
        reason=_("%(facility)sのMCS管理者は異常・不正アクセスの報告を受けるため（留意事項4）")
        % {"facility": facility.name},
    )
    return incident


@transaction.atomic
def incident_acknowledge(*, actor, incident: IncidentReport, note: str = "") -> IncidentReport:
    _require_manager(actor, incident.facility_id)
    incident = _locked(IncidentReport, incident.pk)
    if incident.state != IncidentReport.State.REPORTED:
        raise ValidationError(_("この報告はすでに確認されています。"))
    incident.state = IncidentReport.State.ACKNOWLEDGED
    incident.save(update_fields=["state"])
    _event(incident, actor, IncidentEvent.Action.ACKNOWLEDGED, note.strip())
    audit_record(actor=actor, action=AuditAction.INCIDENT_ACKNOWLEDGE, target=incident)
    _tell_reporter(
        incident,
        kind="devices.incident_acknowledged",
        title=_("異常・不正アクセスの報告をMCS管理者が確認しました"),
        body=note.strip(),
        url=_incident_url(incident),
    )
    return incident


@transaction.atomic
def incident_note_add(*, actor, incident: IncidentReport, note: str) -> IncidentEvent:
    """A step in the timeline: the facility's administrator, or the center once escalated."""
    is_manager = permissions.is_device_manager(actor, incident.facility_id)
    is_center = actor.is_center_staff and incident.escalated_at is not None
    if not (is_manager or is_center):
        raise PermissionDenied(_("この報告に対応を記録できるのは、MCS管理者とセンターです。"))
    if not note.strip():
        raise ValidationError({"note": _("記録する内容を入力してください。")})
    incident = _locked(IncidentReport, incident.pk)
    _require_open(incident)
    event = _event(incident, actor, IncidentEvent.Action.NOTE, note.strip())
    audit_record(actor=actor, action=AuditAction.INCIDENT_NOTE, target=incident)
    return event


def _center_staff() -> list[User]:
    return list(User.objects.filter(groups__name=CENTER_STAFF_GROUP, is_active=True))


@transaction.atomic
def incident_escalate(*, actor, incident: IncidentReport, note: str) -> IncidentReport:
    """留意事項 4: the MCS administrator hands the report to the center."""
    _require_manager(actor, incident.facility_id)
    incident = _locked(IncidentReport, incident.pk)
    _require_open(incident)
    if incident.escalated_at is not None:
        raise ValidationError(_("この報告はすでにセンターへ報告されています。"))
    if not note.strip():
        raise ValidationError({"note": _("センターへ伝える内容を入力してください。")})
    incident.escalated_at = timezone.now()
    incident.escalated_by = actor
    if incident.state == IncidentReport.State.REPORTED:
        incident.state = IncidentReport.State.ACKNOWLEDGED
    incident.save(update_fields=["escalated_at", "escalated_by", "state"])
    _event(incident, actor, IncidentEvent.Action.ESCALATED, note.strip())
    audit_record(actor=actor, action=AuditAction.INCIDENT_ESCALATE, target=incident)
    notify(
        recipients=_center_staff(),
        kind="devices.incident_escalated",
        title=_("%(facility)sから%(kind)sの報告がセンターへ届きました")
        % {"facility": incident.facility.name, "kind": incident.get_kind_display()},
        body=note.strip(),
        url=_incident_url(incident),
        reason=_("事業所のMCS管理者がセンターへ報告したため（留意事項4）"),
    )
    return incident


@transaction.atomic
def incident_close(*, actor, incident: IncidentReport, outcome: str) -> IncidentReport:
    _require_manager(actor, incident.facility_id)
    incident = _locked(IncidentReport, incident.pk)
    _require_open(incident)
    if not outcome.strip():
        raise ValidationError({"outcome": _("対応結果を記入してください。")})
    incident.state = IncidentReport.State.CLOSED
    incident.outcome = outcome.strip()
    incident.closed_at = timezone.now()
    incident.save(update_fields=["state", "outcome", "closed_at"])
    _event(incident, actor, IncidentEvent.Action.CLOSED, incident.outcome)
    audit_record(actor=actor, action=AuditAction.INCIDENT_CLOSE, target=incident)
    _tell_reporter(
        incident,
        kind="devices.incident_closed",
        title=_("異常・不正アクセスの報告の対応が完了しました"),
        body=incident.outcome,
        url=_incident_url(incident),
    )
    return incident


# --- the periodic reminders (tasks.py calls these) ---------------------------------------------
def _week_key(today: dt.date) -> str:
    year, week, _day = today.isocalendar()
    return f"{year}-W{week:02d}"


def takeouts_remind_overdue(*, today: dt.date | None = None) -> int:
    """Take-outs past their period without a return: remind the requester and the facility's
    MCS administrators, at most once a week per request (dedupe key), whatever the reruns."""
    today = today or timezone.localdate()
    week = _week_key(today)
    overdue = list(selectors.overdue_takeouts(today))
    managers = selectors.device_managers_by_facility({r.facility_id for r in overdue})
    sent = 0
    for request_obj in overdue:
        url = _takeout_url(request_obj)
        key = f"devices.takeout_overdue:{request_obj.pk}:{week}"
        body = _(
            "期間: %(start)s〜%(end)s\n返却したら、届出のページで「返却した」を押してください。"
        ) % {
            "start": request_obj.period_start,
            "end": request_obj.period_end,
        }
        sent += len(
            notify(
                recipients=[request_obj.requester],
                kind="devices.takeout_overdue",
                title=_("持ち出しの期間が過ぎています。返却を報告してください"),
                body=body,
                url=url,
                reason=_(
                    "あなたの持ち出しの期間が終わったのに返却が報告されていないため（第12条(9)）"
                ),
                dedupe_key=key,
            )
        )
        sent += len(
            notify(
                recipients=[
                    u
                    for u in managers.get(request_obj.facility_id, [])
                    if u.pk != request_obj.requester_id
                ],
                kind="devices.takeout_overdue",
                title=_("%(name)sさんの持ち出しの期間が過ぎています")
                % {"name": request_obj.requester.name or request_obj.requester.email},
                body=body,
                url=url,
                reason=_("%(facility)sのMCS管理者として持ち出しを管理しているため")
                % {"facility": request_obj.facility.name},
                dedupe_key=key,
            )
        )
    return sent


def device_checks_remind_overdue(*, today: dt.date | None = None) -> int:
    """Devices whose art. 12 checklist was not confirmed within the network's interval: one
    reminder per facility and week to its MCS administrators."""
    today = today or timezone.localdate()
    week = _week_key(today)
    counts = selectors.facilities_with_overdue_checks(today)
    managers = selectors.device_managers_by_facility(counts)
    names = dict(Facility.objects.filter(pk__in=counts).values_list("pk", "name"))
    url = reverse("devices:device_list") + "?overdue=1"
    sent = 0
    for facility_id, count in counts.items():
        sent += len(
            notify(
                recipients=managers.get(facility_id, []),
                kind="devices.check_overdue",
                title=_("%(facility)s: IT機器 %(n)s 台のチェックリストが確認期限を過ぎています")
                % {"facility": names[facility_id], "n": count},
                body=_("第12条のセキュリティ対策を確認し、確認日を記録してください。"),
                url=f"{url}&facility={facility_id}",
                reason=_("%(facility)sのMCS管理者はIT機器を管理するため（第6条(2)）")
                % {"facility": names[facility_id]},
                dedupe_key=f"devices.check_overdue:{facility_id}:{week}",
            )
        )
    return sent


# --- restriction of a user because of a report (留意事項 2, with the facilities app) --------------
@transaction.atomic
def incident_user_restrict(*, actor, incident: IncidentReport, user: User, level: str, reason: str):
    """Restrict or ban `user` through facilities.services.user_restrict and link the row to the
    report that caused it; the timeline shows it."""
    _require_manager(actor, incident.facility_id)
    if user.pk == actor.pk:
        raise ValidationError({"user": _("ご自身の利用を制限することはできません。")})
    if not selectors.facility_members([incident.facility_id]).filter(pk=user.pk).exists():
        raise ValidationError({"user": _("この事業所の職員から選んでください。")})
    if not reason.strip():
        raise ValidationError({"reason": _("理由を入力してください。")})
    incident = _locked(IncidentReport, incident.pk)
    restriction = user_restrict(
        actor=actor, user=user, facility=incident.facility, level=level, reason=reason.strip()
    )
    incident.restrictions.add(restriction)
    label = restriction.get_level_display()
    _event(
        incident,
        actor,
        IncidentEvent.Action.RESTRICTED,
        f"{user.name or user.email}: {label} — {reason.strip()}",
    )
    audit_record(
        actor=actor,
        action=AuditAction.INCIDENT_RESTRICT,
        target=incident,
        changes={"user": user.email, "level": level, "restriction": restriction.pk},
    )
    return restriction


# --- 個人データの漏えい等: the legal clock (個人情報保護法 §26, 規則7条1号, 8条) ----------------------

# 規則8条2項: 確報 within 30 days of learning of it, 60 for a leak by an improper purpose (不正の目的).
FINAL_REPORT_DAYS = 30
FINAL_REPORT_DAYS_IMPROPER = 60
# How long before each deadline the facility's MCS administrators are reminded (once each).
PRELIMINARY_NOTICE = dt.timedelta(days=1)
FINAL_NOTICE = dt.timedelta(days=7)
LEAK_REPORT_FIELDS = (
    "overview",
    "data_items",
    "person_count",
    "cause",
    "secondary_harm",
    "response_to_persons",
    "publication",
    "prevention",
    "other",
)


def _leak_url(leak: PrivacyLeak) -> str:
    return reverse("devices:leak_detail", args=[leak.pk])


def leak_deadlines(*, known_at, improper_purpose: bool) -> tuple[dt.date, dt.date]:
    """(速報, 確報) due dates from the day the facility learned of the leak."""
    known_on = timezone.localdate(known_at)
    preliminary = known_on + dt.timedelta(days=NetworkSettings.load().leak_preliminary_report_days)
    final_days = FINAL_REPORT_DAYS_IMPROPER if improper_purpose else FINAL_REPORT_DAYS
    return preliminary, known_on + dt.timedelta(days=final_days)


@transaction.atomic
def leak_mark(*, actor, report, known_at, improper_purpose: bool = False, groups=()) -> PrivacyLeak:
    """The facility's MCS administrator marks an incident or loss report as a (possible) leak
    of patients' personal data: the clock starts, and the MCS administrators of the other
    facilities in the affected groups are told (without any patient detail)."""
    _require_manager(actor, report.facility_id)
    if getattr(report, "privacy_leak", None) is not None:
        raise ValidationError(_("この報告はすでに漏えい等として記録されています。"), code="already")
    if known_at is None:
        raise ValidationError(_("漏えい等を知った日時を入力してください。"), code="known_at")
    if known_at > timezone.now():
        raise ValidationError(_("漏えい等を知った日時に未来の日時は入力できません。"))
    groups = list(groups)
    allowed = set(
        selectors.leak_group_choices(actor, report.facility_id).values_list("pk", flat=True)
    )
    if any(group.pk not in allowed for group in groups):
        raise PermissionDenied(_("この事業所が関わる患者グループだけを選べます。"))
    preliminary_due, final_due = leak_deadlines(
        known_at=known_at, improper_purpose=improper_purpose
    )
    leak = PrivacyLeak.objects.create(
        facility_id=report.facility_id,
        incident=report if isinstance(report, IncidentReport) else None,
        loss_report=report if isinstance(report, LossReport) else None,
        known_at=known_at,
        improper_purpose=bool(improper_purpose),
        preliminary_due=preliminary_due,
        final_due=final_due,
        person_count=len(groups) or None,
        marked_by=actor,
    )
    leak.affected_groups.set(groups)
    if isinstance(report, IncidentReport):
        _event(
            report,
            actor,
            IncidentEvent.Action.NOTE,
            _("個人データの漏えい等（のおそれ）として記録"),
        )
    audit_record(
        actor=actor,
        action=AuditAction.PRIVACY_LEAK_MARK,
        target=leak,
        changes={
            "report": f"{report._meta.label_lower}:{report.pk}",
            "groups": sorted(group.pk for group in groups),
            "improper_purpose": bool(improper_purpose),
            "preliminary_due": preliminary_due.isoformat(),
            "final_due": final_due.isoformat(),
        },
    )
    _alert_other_facilities(leak)
    return leak


def _alert_other_facilities(leak: PrivacyLeak) -> None:
    """留意事項 医療介護情報の取り扱い (1)(2): each facility answers for the records it sees, so
    the other facilities in the affected groups hear of it. Facility and contact only: no
    patient, no group name (mail is not the place for patient details, 別紙5 (2))."""
    facility_ids = selectors.leak_other_facility_ids(leak)
    admins = selectors.device_managers_by_facility(facility_ids)
    facility = leak.facility
    notify(
        recipients=[user for users in admins.values() for user in users],
        kind="devices.leak_alert",
        title=_("他の事業所から個人データの漏えい等（のおそれ）の報告がありました"),
        body=_(
            "%(facility)sから、貴事業所も参加している連携グループに関わる個人データの漏えい等"
            "（またはそのおそれ）が記録されました。貴事業所での確認や対応が必要か、"
            "%(facility)sのMCS管理者にお問い合わせください（電話 %(phone)s）。"
        )
        % {"facility": facility.name, "phone": facility.phone or "—"},
        reason=_("貴事業所のMCS管理者であり、影響を受けた連携グループに貴事業所が参加しているため"),
        dedupe_key=f"devices.leak_alert:{leak.pk}",
    )


@transaction.atomic
def leak_report_update(*, actor, leak: PrivacyLeak, **items) -> PrivacyLeak:
    """Draft the report's items (規則8条1項 1–9), to print and send to the commission."""
    leak = _locked(PrivacyLeak, leak.pk)
    _require_manager(actor, leak.facility_id)
    leak, changed = model_update(instance=leak, fields=LEAK_REPORT_FIELDS, data=items)
    audit_record(
        actor=actor,
        action=AuditAction.PRIVACY_LEAK_REPORT_DRAFT,
        target=leak,
        changes={"fields": changed},
    )
    return leak


@transaction.atomic
def leak_report_record(*, actor, leak: PrivacyLeak, stage: str, reported_on) -> PrivacyLeak:
    """速報 or 確報 sent to the commission (規則8条1項, 2項); the 確報 closes the clock."""
    leak = _locked(PrivacyLeak, leak.pk)
    _require_manager(actor, leak.facility_id)
    if stage not in ("preliminary", "final"):
        raise ValidationError(_("速報か確報かを選んでください。"), code="stage")
    if reported_on is None or reported_on > timezone.localdate():
        raise ValidationError(
            _("報告した日を正しく入力してください（未来の日付は入力できません）。")
        )
    if reported_on < timezone.localdate(leak.known_at):
        raise ValidationError(_("報告した日は、漏えい等を知った日より後の日付にしてください。"))
    if stage == "preliminary":
        leak.preliminary_reported_on = reported_on
        action = AuditAction.PRIVACY_LEAK_PRELIMINARY_REPORT
    else:
        leak.final_reported_on = reported_on
        leak.state = PrivacyLeak.State.CLOSED
        action = AuditAction.PRIVACY_LEAK_FINAL_REPORT
    leak.save()
    audit_record(
        actor=actor,
        action=action,
        target=leak,
        changes={"reported_on": reported_on.isoformat()},
    )
    return leak


@transaction.atomic
def leak_persons_notified_record(*, actor, leak: PrivacyLeak, notified_on, how: str) -> PrivacyLeak:
    """§26②: the affected persons were told (date and how)."""
    leak = _locked(PrivacyLeak, leak.pk)
    _require_manager(actor, leak.facility_id)
    if notified_on is None or notified_on > timezone.localdate():
        raise ValidationError(
            _("本人へ通知した日を正しく入力してください（未来の日付は入力できません）。")
        )
    if not (how or "").strip():
        raise ValidationError(_("本人への通知の方法を入力してください（例: 書面を郵送）。"))
    leak.persons_notified_on = notified_on
    leak.persons_notified_how = how.strip()
    leak.save()
    audit_record(
        actor=actor,
        action=AuditAction.PRIVACY_LEAK_PERSONS_NOTIFIED,
        target=leak,
        changes={"notified_on": notified_on.isoformat()},
    )
    return leak


def leak_deadlines_remind(*, now=None) -> int:
    """Before each deadline (速報, 確報) not yet met, remind the facility's MCS administrators,
    once each (dedupe key per leak and stage), however often the job runs."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    stages = (
        (
            "preliminary",
            "preliminary_due",
            "preliminary_reported_on",
            PRELIMINARY_NOTICE,
            _("速報"),
        ),
        ("final", "final_due", "final_reported_on", FINAL_NOTICE, _("確報")),
    )
    for stage, due_field, done_field, notice, label in stages:
        leaks = list(
            PrivacyLeak.objects.filter(
                state=PrivacyLeak.State.OPEN,
                **{f"{done_field}__isnull": True, f"{due_field}__lte": today + notice},
            ).select_related("facility")
        )
        admins = selectors.device_managers_by_facility({leak.facility_id for leak in leaks})
        for leak in leaks:
            due = getattr(leak, due_field)
            sent += len(
                notify(
                    recipients=admins.get(leak.facility_id, []),
                    kind=f"devices.leak_{stage}_due",
                    title=_("漏えい等の%(stage)sの期限が近づいています（%(due)s まで）")
                    % {"stage": label, "due": due.strftime("%Y-%m-%d")},
                    body=_(
                        "個人情報保護委員会への%(stage)sの期限は %(due)s です（個人情報保護法 第26条、"
                        "規則8条）。報告書の下書きを確認し、報告したら日付を記録してください。"
                    )
                    % {"stage": label, "due": due.strftime("%Y-%m-%d")},
                    url=_leak_url(leak),
                    reason=_("この事業所のMCS管理者であり、漏えい等の報告の期限が近いため"),
                    dedupe_key=f"devices.leak_{stage}_due:{leak.pk}",
                )
            )
    return sent


# --- a staff member leaves (留意事項4, 第7条(2), 第12条(10)) ---------------------------------------
def _leaver_url(checklist: LeaverChecklist) -> str:
    return reverse("devices:leaver_detail", kwargs={"pk": checklist.pk})


@transaction.atomic
def leaver_checklist_open(
    *, actor, user: User, facility: Facility, reason: str = "", left_network: bool = False
) -> LeaverChecklist:
    """The staff member left `facility`: their BYOD approvals end, their pending requests are
    withdrawn, information taken out is flagged to return, and the facility's MCS
    administrators get a checklist (the facility's devices assigned to them to return, the
    account's 「スタッフ解除」 in MCS, the post-employment duty of 第7条(2))."""
    now = timezone.now()
    requests = TakeoutRequest.objects.select_for_update().filter(facility=facility, requester=user)
    byod_ended = list(
        requests.filter(
            kind=TakeoutRequest.Kind.BYOD, state=TakeoutRequest.State.APPROVED
        ).values_list("pk", flat=True)
    )
    TakeoutRequest.objects.filter(pk__in=byod_ended).update(
        state=TakeoutRequest.State.ENDED, return_requested_at=now
    )
    withdrawn = list(
        requests.filter(state=TakeoutRequest.State.PENDING).values_list("pk", flat=True)
    )
    TakeoutRequest.objects.filter(pk__in=withdrawn).update(state=TakeoutRequest.State.WITHDRAWN)
    to_return = list(
        requests.filter(
            kind=TakeoutRequest.Kind.TAKEOUT,
            state=TakeoutRequest.State.APPROVED,
            return_requested_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    TakeoutRequest.objects.filter(pk__in=to_return).update(return_requested_at=now)
    checklist, created = LeaverChecklist.objects.get_or_create(
        facility=facility,
        user=user,
        closed_at__isnull=True,
        defaults={"left_at": now, "reason": (reason or "")[:300], "left_network": left_network},
    )
    devices = list(selectors.leaver_devices_to_return(checklist).values_list("pk", flat=True))
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_LEAVER_OPEN,
        target=checklist,
        changes={
            "user": user.pk,
            "byod_ended": byod_ended,
            "withdrawn": withdrawn,
            "takeouts_to_return": to_return,
            "devices_to_return": devices,
            "created": created,
        },
    )
    managers = [m for m in selectors.device_managers_of(facility.pk) if m.pk != user.pk]
    if managers:
        notify(
            recipients=managers,
            kind="devices.leaver_checklist",
            title=_("%(name)sさんの退職者チェックリスト（%(facility)s）")
            % {"name": user.name or user.email, "facility": facility.name},
            body=_(
                "貸与端末の返却、MCSでのスタッフ解除、退職後の守秘義務の伝達を確認してください"
                "（留意事項4、第7条(2)）。返却する端末: %(n)d台"
            )
            % {"n": len(devices)},
            url=_leaver_url(checklist),
            reason=_("%(facility)sのMCS管理者として利用者とIT機器を管理しているため（第6条）")
            % {"facility": facility.name},
        )
    return checklist


@transaction.atomic
def leaver_item_confirm(*, actor, checklist: LeaverChecklist, item: str) -> LeaverChecklist:
    """The MCS administrator confirms one item; the checklist closes with the third. Devices
    are confirmed only when none of the facility's devices is still in use by the leaver
    (each is returned with its data erased, or disposed, 第12条(13))."""
    _require_manager(actor, checklist.facility_id)
    if item not in LeaverChecklist.ITEMS:
        raise ValidationError(_("確認する項目を選んでください。"))
    checklist = _locked(LeaverChecklist, checklist.pk)
    if checklist.closed_at is not None:
        raise ValidationError(_("このチェックリストは完了しています。"))
    if checklist.item_done(item):
        raise ValidationError(_("この項目は確認済みです。"))
    now = timezone.now()
    returned_takeouts = []
    if item == "devices":
        in_use = selectors.leaver_devices_to_return(checklist)
        if in_use.exists():
            raise ValidationError(
                _(
                    "この方に貸与した機器がまだ「使用中」です: %(labels)s。返却（消去ソフトでの"
                    "消去）または廃棄を機器台帳に記録してから確認してください（第12条(13)）。"
                )
                % {"labels": "、".join(in_use.values_list("label", flat=True))}
            )
        returned_takeouts = list(
            selectors.leaver_takeouts_to_return(checklist).values_list("pk", flat=True)
        )
        TakeoutRequest.objects.filter(pk__in=returned_takeouts).update(
            state=TakeoutRequest.State.RETURNED, returned_at=now
        )
        checklist.devices_returned_at, checklist.devices_returned_by = now, actor
    elif item == "mcs_released":
        checklist.mcs_released_at, checklist.mcs_released_by = now, actor
    else:
        checklist.duty_reminded_at, checklist.duty_reminded_by = now, actor
    if all(checklist.item_done(name) for name in LeaverChecklist.ITEMS):
        checklist.closed_at = now
    checklist.save()
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_LEAVER_CONFIRM,
        target=checklist,
        changes={
            "item": item,
            "takeouts_returned": returned_takeouts,
            "closed": checklist.closed_at is not None,
        },
    )
    return checklist
