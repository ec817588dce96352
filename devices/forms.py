"""Forms of the devices app: phone-width friendly (nurses file from phones), Japanese messages."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mcnet.forms import DatePickerInput, JapaneseDateField

from .models import CHECKLIST_FIELDS, Device, IncidentReport, LossReport, TakeoutRequest
from .selectors import leak_group_label

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_LOCAL, **kwargs)


def _date_field(label, required=False, help_text=""):
    return JapaneseDateField(label=label, required=required, picker=True, help_text=help_text)


def _datetime_field(label):
    return forms.DateTimeField(
        label=label,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        error_messages={"invalid": _("日時を正しく入力してください（例: 2026-11-23 14:30）。")},
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name or obj.email}（{obj.get_occupation_display()}）"


class FacilityFieldMixin:
    """A facility select when the person works at (or manages) several; hidden otherwise."""

    def _setup_facility(self, facilities):
        field = self.fields["facility"]
        field.queryset = facilities
        field.error_messages["invalid_choice"] = _(
            "事業所: 所属している（またはMCS管理者を務める）事業所から選んでください。"
        )
        choices = list(facilities[:2])
        self._only_facility = choices[0] if len(choices) == 1 else None
        if self._only_facility is not None:
            field.initial = self._only_facility.pk
            field.required = False
            field.widget = forms.HiddenInput()

    def clean_facility(self):
        # One facility: it is the one, whether or not the hidden field came back.
        return self.cleaned_data.get("facility") or self._only_facility


class DeviceForm(FacilityFieldMixin, forms.ModelForm):
    """The register's entry of one device (art. 6 (2)) with the art. 12 checklist dates."""

    facility = forms.ModelChoiceField(label=_("事業所"), queryset=None)
    assigned_user = UserChoiceField(label=_("使用者"), queryset=None, required=False)

    class Meta:
        model = Device
        fields = (
            "facility",
            "kind",
            "ownership",
            "label",
            "assigned_user",
            "note",
            *CHECKLIST_FIELDS,
        )
        widgets = {
            "kind": forms.RadioSelect,
            "ownership": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
            **{name: DatePickerInput() for name, _label in Device.CHECKLIST},
        }
        # Read in 和暦 or 西暦 too, where a browser shows a plain box for the picker.
        field_classes = {name: JapaneseDateField for name, _label in Device.CHECKLIST}
        help_texts = {"label": _("例: 訪問用スマホ1号、PC-003")}

    def __init__(self, *args, facilities, members, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["facility"]
        else:
            self._setup_facility(facilities)
        self.fields["assigned_user"].queryset = members
        for name, label in Device.CHECKLIST:
            self.fields[name].label = label
            self.fields[name].help_text = _("最後に確認した日")

    def main_fields(self):
        return [f for f in self.visible_fields() if f.name not in CHECKLIST_FIELDS]

    def checklist_fields(self):
        return [self[name] for name in CHECKLIST_FIELDS]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for name, _label in Device.CHECKLIST:
            if data.get(name) and data[name] > today:
                self.add_error(name, _("確認日に未来の日付は指定できません。"))
        return data


class ChecklistConfirmForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("本日確認した項目"),
        choices=[(name, label) for name, label in Device.CHECKLIST],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("確認した項目を1つ以上選んでください。")},
    )


class DeviceStateForm(forms.Form):
    state = forms.ChoiceField(
        label=_("新しい状態"), choices=Device.State.choices, widget=forms.RadioSelect
    )
    erase_method = forms.ChoiceField(
        label=_("データ消去の方法（第12条(13)）"),
        choices=[("", _("（記録しない）")), *Device.EraseMethod.choices],
        required=False,
        help_text=_(
            "売却・返却時は消去ソフトで完全に消去、廃棄時はハードディスクを物理的に破壊します"
            "（第12条(13)）。"
        ),
    )
    erased_by = forms.CharField(
        label=_("消去・破壊を行った人（業者）"),
        required=False,
        max_length=100,
        help_text=_("返却・廃棄のときに記録します。"),
    )
    erased_on = _date_field(_("データ消去日"))
    note = forms.CharField(
        label=_("備考"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def clean(self):
        data = super().clean()
        if data.get("erased_on") and data["erased_on"] > timezone.localdate():
            self.add_error("erased_on", _("未来の日付は指定できません。"))
        return data


class DeviceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class TakeoutRequestForm(FacilityFieldMixin, forms.Form):
    """持ち出し届 / BYOD届 (art. 12 (9)(10)): the fields of the paper form."""

    facility = forms.ModelChoiceField(label=_("事業所"), queryset=None)
    kind = forms.ChoiceField(
        label=_("届出の種類"), choices=TakeoutRequest.Kind.choices, widget=forms.RadioSelect
    )
    information = forms.CharField(
        label=_("持ち出す情報の内容"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("例: 担当利用者5名の訪問記録（MCSの閲覧のみ）"),
    )
    medium = forms.CharField(
        label=_("格納する媒体"),
        max_length=200,
        help_text=_("例: 事業所のタブレット、個人のスマートフォン"),
    )
    purpose = forms.CharField(
        label=_("持ち出す目的"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    period_start = _date_field(_("期間（開始日）"), required=True)
    period_end = _date_field(_("期間（終了日）"), required=True)
    device = DeviceChoiceField(
        label=_("使用する登録済みの機器"),
        queryset=None,
        required=False,
        help_text=_("あなたに割り当てられた機器から選べます（任意）。"),
    )
    personal_device = forms.CharField(
        label=_("使用する個人所有端末（BYODの場合）"),
        max_length=200,
        required=False,
        help_text=_("機種名・色など、端末がわかるように書いてください。"),
    )

    def __init__(self, *args, facilities, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_facility(facilities)
        self.fields["device"].queryset = devices
        if not devices.exists():
            del self.fields["device"]

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and start < timezone.localdate():
            self.add_error(
                "period_start", _("開始日は今日以降にしてください（持ち出す前に届け出ます）。")
            )
        if start and end and end < start:
            self.add_error("period_end", _("終了日は開始日以降の日付にしてください。"))
        if (
            data.get("kind") == TakeoutRequest.Kind.BYOD
            and not data.get("personal_device")
            and not data.get("device")
        ):
            self.add_error(
                "personal_device", _("BYODの届出では、使用する個人所有端末を記入してください。")
            )
        device = data.get("device")
        facility = data.get("facility")
        if device and facility and device.facility_id != facility.pk:
            self.add_error("device", _("選んだ事業所の機器を選んでください。"))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("判断"),
        choices=[("approve", _("承認する")), ("reject", _("却下する"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("承認するか却下するかを選んでください。")},
    )
    comment = forms.CharField(
        label=_("コメント"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("却下するときは理由を書いてください。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("comment", "").strip():
            self.add_error("comment", _("却下するときは理由をコメントに書いてください。"))
        return data


class LossReportForm(FacilityFieldMixin, forms.Form):
    """紛失・盗難の報告 (art. 12 (11))."""

    facility = forms.ModelChoiceField(label=_("事業所"), queryset=None)
    kind = forms.ChoiceField(
        label=_("紛失・盗難"),
        choices=LossReport.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("紛失か盗難かを選んでください。")},
    )
    device = DeviceChoiceField(
        label=_("登録済みの機器"),
        queryset=None,
        required=False,
        help_text=_("あなたに割り当てられた機器なら選んでください（任意）。"),
    )
    device_description = forms.CharField(
        label=_("機器"),
        max_length=200,
        required=False,
        help_text=_("登録済みの機器を選んだときは不要です。例: 業務用スマートフォン（黒のiPhone）"),
    )
    occurred_at = _datetime_field(_("紛失・盗難に気づいた日時"))
    place = forms.CharField(
        label=_("場所"),
        max_length=200,
        help_text=_("例: 訪問先から戻る途中の車内"),
        error_messages={"required": _("なくした（盗まれた）場所を入力してください。")},
    )
    contents = forms.CharField(
        label=_("機器に入っていた情報"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("MCSへのログイン状態、保存していた写真や記録など"),
        error_messages={"required": _("機器に入っていた情報を入力してください。")},
    )
    password_changed = forms.TypedChoiceField(
        label=_("MCSのパスワードを変更しましたか"),
        choices=[("yes", _("変更した")), ("no", _("まだ変更していない"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("MCSのパスワードを変更したかどうかを選んでください。")},
    )
    carrier_contacted = forms.ChoiceField(
        label=_("携帯電話会社にリモートロック・データ消去を依頼しましたか"),
        choices=LossReport.Carrier.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("携帯電話会社への依頼について選んでください。")},
    )

    def __init__(self, *args, facilities, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_facility(facilities)
        self.fields["device"].queryset = devices
        if not devices.exists():
            del self.fields["device"]

    def clean(self):
        data = super().clean()
        when = data.get("occurred_at")
        if when and when > timezone.now() + dt.timedelta(minutes=5):
            self.add_error("occurred_at", _("日時に未来は指定できません。"))
        device, facility = data.get("device"), data.get("facility")
        if device and facility and device.facility_id != facility.pk:
            self.add_error("device", _("選んだ事業所の機器を選んでください。"))
        description = (data.get("device_description") or "").strip()
        if device and not description:
            # A registered device names itself: the report is not asked for it twice.
            data["device_description"] = str(device)
        elif not device and not description and "device_description" not in self.errors:
            self.add_error(
                "device_description",
                _("なくした機器を、登録済みの機器から選ぶか、ここに入力してください。")
                if "device" in self.fields
                else _("なくした機器を入力してください（例: 業務用スマートフォン）。"),
            )
        return data


class LossAcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("報告者への指示"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    device = DeviceChoiceField(
        label=_("該当する登録済みの機器"),
        queryset=None,
        required=False,
        help_text=_("選ぶと、その機器の状態が「紛失・盗難」になります。"),
    )

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = devices
        if not devices.exists():
            del self.fields["device"]


class OutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=_("対応結果"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("対応結果を記入してください。")},
    )


class IncidentReportForm(FacilityFieldMixin, forms.Form):
    """システム異常・不正アクセスの報告 (留意事項 4)."""

    facility = forms.ModelChoiceField(label=_("事業所"), queryset=None)
    kind = forms.ChoiceField(
        label=_("種類"), choices=IncidentReport.Kind.choices, widget=forms.RadioSelect
    )
    occurred_at = _datetime_field(_("発見した日時"))
    description = forms.CharField(
        label=_("内容"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
        help_text=_("何が起きたか、どの画面で、誰のIDで、を分かる範囲で書いてください。"),
    )

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_facility(facilities)

    def clean(self):
        data = super().clean()
        when = data.get("occurred_at")
        if when and when > timezone.now() + dt.timedelta(minutes=5):
            self.add_error("occurred_at", _("日時に未来は指定できません。"))
        return data


class NoteForm(forms.Form):
    """A step in the timeline (and, with its own wording, the note sent to the center)."""

    label = _("記録する内容")
    required_message = _("記録する内容を入力してください。")

    note = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = self.label
        self.fields["note"].error_messages["required"] = self.required_message


class EscalateForm(NoteForm):
    label = _("センターへ伝える内容")
    required_message = _("センターへ伝える内容を入力してください。")


class RestrictForm(forms.Form):
    """留意事項 2: restrict or ban a user, from the report that caused it."""

    user = UserChoiceField(label=_("対象のユーザー"), queryset=None)
    level = forms.ChoiceField(label=_("措置"), choices=(), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, users, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["level"].choices = levels


# --- 個人データの漏えい等 (個人情報保護法 §26, 規則8条) -------------------------------------------


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, *args, facility_id=None, **kwargs):
        self.facility_id = facility_id
        super().__init__(*args, **kwargs)

    def label_from_instance(self, group):
        return leak_group_label(group, self.facility_id)


class LeakMarkForm(forms.Form):
    """Mark a report as a (possible) leak of patients' personal data: the clock starts."""

    known_at = _datetime_field(_("漏えい等（のおそれ）を知った日時"))
    improper_purpose = forms.BooleanField(
        label=_("不正の目的によるもの（のおそれ）である（確報の期限が60日になります）"),
        required=False,
    )
    groups = GroupChoiceField(
        label=_("影響を受けた患者グループ"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "漏えい等の対象になった（おそれのある）患者のグループを選びます。要配慮個人情報は"
            "1人分でも報告の対象です（規則7条1号）。"
        ),
        error_messages={"required": _("影響を受けた患者グループを1つ以上選んでください。")},
    )

    def __init__(self, *args, groups, facility_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = groups
        self.fields["groups"].facility_id = facility_id

    def clean_known_at(self):
        when = self.cleaned_data.get("known_at")
        if when and when > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("日時に未来は指定できません。"))
        return when


def _item(label, rows=3):
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}), max_length=4000
    )


class LeakReportForm(forms.Form):
    """規則8条1項 1–9: the items of the report to the commission (a draft, printed)."""

    overview = _item(_("(1) 概要"))
    data_items = _item(_("(2) 漏えい等が発生し、又は発生したおそれがある個人データの項目"))
    person_count = forms.IntegerField(
        label=_("(3) 漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数"),
        required=False,
        min_value=0,
        error_messages={"invalid": _("本人の数は数字で入力してください。")},
    )
    cause = _item(_("(4) 原因"))
    secondary_harm = _item(_("(5) 二次被害又はそのおそれの有無及びその内容"))
    response_to_persons = _item(_("(6) 本人への対応の実施状況"))
    publication = _item(_("(7) 公表の実施状況"))
    prevention = _item(_("(8) 再発防止のための措置"))
    other = _item(_("(9) その他参考となる事項"))

    def clean_person_count(self):
        return self.cleaned_data.get("person_count")


class LeakRecordReportForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("報告"), choices=[("preliminary", _("速報")), ("final", _("確報"))]
    )
    reported_on = _date_field(_("個人情報保護委員会へ報告した日"), required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_on"].error_messages["required"] = _("報告した日を入力してください。")


class LeakPersonsNotifiedForm(forms.Form):
    """§26②: the affected persons were told."""

    notified_on = _date_field(_("本人へ通知した日"), required=True)
    how = forms.CharField(
        label=_("通知の方法"),
        max_length=200,
        help_text=_("例: 書面を郵送、訪問して説明"),
        error_messages={"required": _("通知の方法を入力してください。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notified_on"].error_messages["required"] = _(
            "本人へ通知した日を入力してください。"
        )
