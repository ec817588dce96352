"""Forms of the consents app: kana of any width, phone numbers as typed, scans checked by
content; the services decide the rest."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Gender
from mcnet.forms import KanaField, PhoneField
from mcnet.uploads import scan_upload

from .models import Consent


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _not_future(value: dt.date, label: str) -> dt.date:
    if value and value > timezone.localdate():
        raise ValidationError(_("%(label)sに未来の日付は入力できません。") % {"label": label})
    return value


class PatientForm(forms.Form):
    """基本設定 3 ①: only what a group needs; name and kana are required."""

    facility = forms.ModelChoiceField(
        label=_("登録する事業所"), queryset=Facility.objects.none(), empty_label=None
    )
    name = forms.CharField(
        label=_("氏名"),
        max_length=100,
        error_messages={"required": _("氏名を入力してください。")},
    )
    kana = KanaField(
        label=_("ふりがな"),
        max_length=100,
        help_text=_("ひらがな・カタカナのどちらでも入力できます。"),
        error_messages={"required": _("ふりがなを入力してください。")},
    )
    birth_date = forms.DateField(
        label=_("生年月日"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("生年月日は 1940-04-01 の形で入力してください。")},
    )
    sex = forms.ChoiceField(
        label=_("性別"), required=False, choices=[("", _("未入力")), *Gender.choices]
    )
    address = forms.CharField(label=_("住所"), max_length=300, required=False)
    phone = PhoneField(label=_("電話番号"), required=False)

    def __init__(self, *args, facilities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if facilities is None:
            del self.fields["facility"]
        else:
            self.fields["facility"].queryset = facilities

    def clean_birth_date(self):
        return _not_future(self.cleaned_data.get("birth_date"), _("生年月日"))

    def clean_kana(self):
        kana = self.cleaned_data.get("kana", "")
        if kana and not all(
            "\u30a0" <= ch <= "\u30ff" or ch in " 　" for ch in kana
        ):  # after normalize_kana: full-width katakana, the long vowel mark and spaces
            raise ValidationError(_("ふりがなは、ひらがなかカタカナで入力してください。"))
        return kana


class ConsentForm(forms.Form):
    """別紙7: who signed, when, who explained it, which facilities it covers, the academic-use
    consent (留意事項 4 (3)), and the signed paper."""

    signed_on = forms.DateField(
        label=_("同意日"),
        widget=DateInput(),
        error_messages={
            "required": _("同意日を入力してください。"),
            "invalid": _("同意日は 2026-04-01 の形で入力してください。"),
        },
    )
    signer_kind = forms.ChoiceField(
        label=_("署名した人"),
        choices=Consent.Signer.choices,
        initial=Consent.Signer.PATIENT,
        widget=forms.RadioSelect,
        help_text=_("本人が記入できない場合は、家族または代理人が記入します（別紙7）。"),
    )
    signer_name = forms.CharField(label=_("家族・代理人の氏名"), max_length=100, required=False)
    signer_relationship = forms.CharField(
        label=_("続柄"), max_length=50, required=False, help_text=_("例: 長男、妻、成年後見人")
    )
    explainer_facility = forms.ModelChoiceField(
        label=_("説明した人の事業所"), queryset=Facility.objects.none(), empty_label=None
    )
    explainer_name = forms.CharField(
        label=_("説明した人の氏名"),
        max_length=100,
        error_messages={"required": _("説明した人の氏名を入力してください。")},
    )
    explainer_phone = PhoneField(label=_("説明した人の電話番号"), required=False)
    covered_facilities = forms.ModelMultipleChoiceField(
        label=_("同意の対象となる事業所"),
        queryset=Facility.objects.filter(state=Facility.State.ACTIVE),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "この患者の医療・介護に携わる事業所です。招待できるのはこの事業所の職員だけです。"
        ),
        error_messages={"required": _("同意の対象となる事業所を1つ以上選んでください。")},
    )
    academic_use = forms.BooleanField(
        label=_("匿名化した情報の学術利用にも同意している（任意、留意事項4(3)）"), required=False
    )
    scan = forms.FileField(
        label=_("署名済み同意書の画像（PDF・JPEG・PNG）"),
        required=False,
        help_text=_("画像を添付しない場合は、下の「紙の同意書を事業所で保管」を選んでください。"),
    )
    paper_kept_at_facility = forms.BooleanField(
        label=_("紙の同意書を事業所で保管している（事業所控え）"), required=False
    )

    def __init__(self, *args, explainer_facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["explainer_facility"].queryset = explainer_facilities

    def clean_signed_on(self):
        return _not_future(self.cleaned_data.get("signed_on"), _("同意日"))

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        return scan_upload(scan) if scan else None

    def clean(self):
        data = super().clean()
        if data.get("signer_kind") in (Consent.Signer.FAMILY, Consent.Signer.AGENT):
            if not (data.get("signer_name") or "").strip():
                self.add_error(
                    "signer_name",
                    _("家族・代理人が署名したときは、その方の氏名を入力してください。"),
                )
            if not (data.get("signer_relationship") or "").strip():
                self.add_error(
                    "signer_relationship",
                    _("家族・代理人が署名したときは、続柄を入力してください（別紙7）。"),
                )
        if (
            not data.get("scan")
            and not data.get("paper_kept_at_facility")
            and not self.has_error("scan")
        ):
            self.add_error(
                "scan",
                _(
                    "署名済み同意書の画像を添付するか、「紙の同意書を事業所で保管」を選んでください。"
                ),
            )
        return data


class CoveredFacilitiesForm(forms.Form):
    covered_facilities = ConsentForm.base_fields["covered_facilities"]


class WithdrawalForm(forms.Form):
    """別紙5: withdrawal at any time, without disadvantage — date, who reported it, how."""

    withdrawn_on = forms.DateField(
        label=_("撤回日"),
        widget=DateInput(),
        error_messages={
            "required": _("撤回日を入力してください。"),
            "invalid": _("撤回日は 2026-04-01 の形で入力してください。"),
        },
    )
    reported_by = forms.CharField(
        label=_("撤回を申し出た人"),
        max_length=100,
        help_text=_("例: 本人、長男 上越一郎"),
        error_messages={"required": _("撤回を申し出た人を入力してください。")},
    )
    method = forms.ChoiceField(
        label=_("申し出の方法"), choices=Consent.WithdrawalMethod.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("記録"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_withdrawn_on(self):
        return _not_future(self.cleaned_data.get("withdrawn_on"), _("撤回日"))


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label=_("誤登録の理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例: 別の患者の同意書を記録した"),
        error_messages={"required": _("誤登録の理由を入力してください。")},
    )
