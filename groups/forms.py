"""Forms of the groups app: they parse; the services decide (and say why they refuse)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Occupation, User

from .models import Group


class PatientGroupForm(forms.Form):
    """第8条: the patient's group. The choice lists every patient the manager handles, also
    those without a valid consent, so the refusal can say why (第9条2項)."""

    patient = forms.ModelChoiceField(
        label=_("患者"),
        queryset=None,
        empty_label=_("選んでください"),
        help_text=_("グループ名は「（患者氏名）さんのグループ」になります（留意事項1）。"),
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients
        self.fields["patient"].label_from_instance = lambda p: f"{p.name}（{p.kana}）"


class FreeGroupForm(forms.Form):
    name = forms.CharField(label=_("グループ名"), max_length=200)
    description = forms.CharField(
        label=_("説明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("自由グループには患者の情報を書き込まないでください（留意事項1(2)、4）。"),
    )


class DirectorySearchForm(forms.Form):
    """The invite picker's search: name or kana, facility, occupation."""

    q = forms.CharField(label=_("氏名・ふりがな"), required=False, max_length=100)
    facility = forms.ModelChoiceField(
        label=_("事業所"),
        queryset=Facility.objects.filter(state=Facility.State.ACTIVE),
        required=False,
        empty_label=_("すべて"),
    )
    occupation = forms.ChoiceField(
        label=_("職種"), required=False, choices=[("", _("すべて")), *Occupation.choices]
    )


class InviteForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("招待する人"),
        queryset=User.objects.filter(is_active=True),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("招待する人を一覧から選んでください。")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"),
        max_length=300,
        help_text=_("例: 担当から外れたため、退職したため"),
        error_messages={"required": _("理由を入力してください。")},
    )


class HandoverForm(forms.Form):
    new_manager = forms.ModelChoiceField(
        label=_("新しい管理者"), queryset=None, empty_label=_("選んでください")
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_manager"].queryset = candidates
        self.fields["new_manager"].label_from_instance = lambda u: u.name or u.email


class ReviewForm(forms.Form):
    """留意事項 1: for each supporter, keep or remove; the review is recorded either way."""

    remove = forms.ModelMultipleChoiceField(
        label=_("解除するメンバー"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("解除の理由"),
        max_length=300,
        required=False,
        help_text=_("解除するメンバーがいるときは必須です。"),
    )
    note = forms.CharField(
        label=_("精査のメモ"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("患者の病状などは書かないでください。"),
    )

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove"].queryset = memberships
        self.fields["remove"].label_from_instance = lambda m: m.user.name or m.user.email

    def clean(self):
        data = super().clean()
        if data.get("remove") and not (data.get("reason") or "").strip():
            self.add_error(
                "reason", _("解除するメンバーがいるときは、解除の理由を入力してください。")
            )
        return data


REPORTABLE_END_REASONS = [
    (value, label)
    for value, label in Group.EndReason.choices
    if value not in (Group.EndReason.CONSENT_WITHDRAWN, Group.EndReason.CONSENT_INVALID)
]


class ReportEndForm(forms.Form):
    """留意事項 3. A withdrawn consent is recorded on the consent itself, which ends the group."""

    reason = forms.ChoiceField(
        label=_("終了の理由"), choices=REPORTABLE_END_REASONS, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("記録"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例: 終了日、連絡を受けた経緯。"),
    )


class ArchiveForm(forms.Form):
    """留意事項 2. The reason is asked only when nobody reported one."""

    reason = forms.ChoiceField(
        label=_("アーカイブの理由"), choices=Group.EndReason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("記録"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        if group.end_reason:
            del self.fields["reason"]
            del self.fields["note"]


class ArchiveSearchForm(forms.Form):
    q = forms.CharField(label=_("グループ名"), required=False, max_length=100)
    reason = forms.ChoiceField(
        label=_("理由"), required=False, choices=[("", _("すべて")), *Group.EndReason.choices]
    )


class CenterFilterForm(forms.Form):
    q = forms.CharField(label=_("グループ名"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("種類"), required=False, choices=[("", _("すべて")), *Group.Kind.choices]
    )
    state = forms.ChoiceField(
        label=_("状態"), required=False, choices=[("", _("すべて")), *Group.State.choices]
    )
