"""Forms of the groups app: they parse; the services decide (and say why they refuse)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Occupation, User
from mcnet.forms import JapaneseDateField

from .models import Group, PostDeletion, StaffAttestationLine


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

    facility_name = forms.CharField(
        label=_("事業所名"), required=False, max_length=100, help_text=_("名前の一部で探せます")
    )

    def __init__(self, *args, facilities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if facilities is None:
            # Any facility of the network (a free group): typed, not chosen among 20,000.
            del self.fields["facility"]
        else:
            del self.fields["facility_name"]
            # A patient group invites only staff of the facilities its consent covers (別紙7):
            # the choice is those few, not every facility of the network.
            self.fields["facility"].queryset = Facility.objects.filter(
                pk__in=[f.pk for f in facilities]
            )


class InviteManyForm(forms.Form):
    """The people ticked in the invite picker, sent after their summary (第8条(2))."""

    users = forms.ModelMultipleChoiceField(
        label=_("招待する人"),
        queryset=User.objects.filter(is_active=True),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": _("招待する人を選んでください。"),
            "invalid_choice": _("招待する人を一覧から選んでください。"),
        },
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

    reason = forms.CharField(
        label=_("引き継ぎの理由"),
        max_length=300,
        required=False,
        help_text=_("管理者が退職・利用停止のため代わりに引き継ぐときは必須です。"),
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
    # 第8条(1), 留意事項4: required; the service refuses a review without it as well.
    timeline_checked = forms.BooleanField(
        label=_(
            "MCSのこのグループのタイムラインを確認しました。書き込みはこの患者のことだけで、"
            "適切な範囲の内容です（不適切な投稿はMCSで削除し、下の「投稿の削除を記録」から"
            "記録しました）。"
        ),
        required=True,
        error_messages={
            "required": _(
                "MCSのタイムラインを確認し、この患者のことだけが適切な範囲で書かれていることを"
                "確かめてから、チェックを入れてください（第8条(1)、留意事項4）。"
            )
        },
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


class StaffAttestationForm(forms.Form):
    """MCS has no API: the MCS administrator says, staff member by staff member, what MCS
    shows. One required choice each; nothing is preselected (a look at MCS, not a click)."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        from_portal = {True: _("ポータル: 在籍中"), False: _("ポータル: 退職・異動")}
        self.rows = rows
        for user, in_portal in rows:
            self.fields[f"user_{user.pk}"] = forms.ChoiceField(
                label=f"{user.name or user.email}（{from_portal[in_portal]}）",
                choices=StaffAttestationLine.Status.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("MCSでの状態を選んでください。")},
            )

    def statuses(self) -> dict[int, str]:
        return {user.pk: self.cleaned_data[f"user_{user.pk}"] for user, _in in self.rows}


class GroupAttestationForm(forms.Form):
    """The MCS group's members compared with the portal's."""

    present = forms.ModelMultipleChoiceField(
        label=_("MCSのグループにもいるメンバー（いない人はチェックを外す）"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-select-all": _("全員を選択")}),
    )
    extra_in_mcs = forms.IntegerField(
        label=_("MCSのグループにだけいて、ここに表示されていない人の人数"),
        min_value=0,
        max_value=999,
        initial=0,
    )
    confirm = forms.BooleanField(
        label=_("MCSでこのグループのメンバー一覧を開き、一人ずつ照合しました。"),
        required=True,
        error_messages={
            "required": _("MCSのメンバー一覧と照合してから、チェックを入れてください。")
        },
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = members
        self.fields["present"].label_from_instance = lambda u: u.name or u.email


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label=_("どのように解消したか"),
        max_length=200,
        help_text=_(
            "例: MCSでスタッフ解除した、センターに別紙4で届け出た。患者の情報は書かないでください。"
        ),
    )


class AnnouncementMailForm(forms.Form):
    """利用開始までの流れ 7①: the center confirms, after the preview, that it sends the mail."""

    confirm = forms.BooleanField(
        label=_("上の内容で、宛先の全員にメールを送信します（取り消せません）。"),
        required=True,
        error_messages={"required": _("送信する場合は、確認のチェックを入れてください。")},
    )


class PostDeletionForm(forms.Form):
    """第8条(1): a post deleted in MCS — when, why, and a short note without patient details."""

    deleted_on = JapaneseDateField(label=_("MCSで削除した日"), picker=True)
    category = forms.ChoiceField(
        label=_("削除の理由"), choices=PostDeletion.Category.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("メモ（任意、200文字まで）"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 200}),
        help_text=_(
            "患者の氏名・病状など、患者の情報は書かないでください。削除した投稿の内容も"
            "書き写さず、「別の利用者の患者について書かれていた」のように短く記録します。"
        ),
    )


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
    # 別紙5 (2): a patient group is found by its number, never by its name (the patient's).
    q = forms.CharField(label=_("番号・自由グループ名"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("種類"), required=False, choices=[("", _("すべて")), *Group.Kind.choices]
    )
    state = forms.ChoiceField(
        label=_("状態"), required=False, choices=[("", _("すべて")), *Group.State.choices]
    )
