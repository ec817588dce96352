"""Forms of the consents app: kana of any width, phone numbers as typed, scans checked by
content; the services decide the rest."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities.forms import FacilityPickerField
from facilities.models import Facility, Gender
from facilities.selectors import directory_facilities
from mcnet.forms import JapaneseDateField, KanaField, PhoneField
from mcnet.picker import PICKER_RESULTS, search_query, show_choices
from mcnet.uploads import scan_upload

from .models import Consent, PatientRequest
from .permissions import OpeningPurpose


def _not_future(value: dt.date, label: str) -> dt.date:
    if value and value > timezone.localdate():
        raise ValidationError(_("%(label)sに未来の日付は入力できません。") % {"label": label})
    return value


def show_facility_choices(form, name: str, *, viewer, defaults, query: str = "") -> None:
    """The facility picker of `form` shows what is chosen (posted or initial), `defaults`, and
    the matches of `query` (the directory's search, as visible to `viewer`)."""
    field = form.fields[name]
    raw = form.data.getlist(form.add_prefix(name)) if form.is_bound else form.initial.get(name)
    if raw is None:
        raw = field.initial or []
    if not isinstance(raw, list | tuple):
        raw = [raw]
    ids = [int(v) for v in (getattr(v, "pk", v) for v in raw) if str(v).isdigit()]
    chosen = list(field.queryset.filter(pk__in=ids).order_by("name")) if ids else []
    found = None
    query = search_query(query)
    if query and viewer is not None:
        found = list(directory_facilities(viewer=viewer, query=query, limit=PICKER_RESULTS))
        # Only what the field accepts (an addendum does not offer the covered ones again).
        valid = set(
            field.queryset.filter(pk__in=[f.pk for f in found]).values_list("pk", flat=True)
        )
        found = [f for f in found if f.pk in valid]
    show_choices(field, chosen=chosen, defaults=defaults, found=found, query=query)


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
    birth_date = JapaneseDateField(label=_("生年月日"), required=False)
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

    # Typed from the signed paper of 別紙7, which carries a 和暦 date.
    signed_on = JapaneseDateField(
        label=_("同意日"),
        error_messages={"required": _("同意日を入力してください。")},
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
    # At 20,000 facilities only those in the patient's care, those chosen and those searched
    # for are shown (mcnet.picker); any active facility is accepted.
    covered_facilities = FacilityPickerField(
        label=_("同意の対象となる事業所"),
        queryset=Facility.objects.filter(state=Facility.State.ACTIVE),
        help_text=_(
            "この患者の医療・介護に携わる事業所です。招待できるのはこの事業所の職員だけです。"
            "一覧にない事業所は、名前で探して加えます。"
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

    def __init__(
        self,
        *args,
        explainer_facilities,
        viewer=None,
        shown_facilities=(),
        facility_query="",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["explainer_facility"].queryset = explainer_facilities
        show_facility_choices(
            self,
            "covered_facilities",
            viewer=viewer,
            defaults=[*shown_facilities, *explainer_facilities],
            query=facility_query,
        )

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

    withdrawn_on = JapaneseDateField(
        label=_("撤回日"),
        picker=True,
        error_messages={"required": _("撤回日を入力してください。")},
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


class AddendumForm(forms.Form):
    """追加同意書: the facilities to add, printed for the patient to sign (別紙7)."""

    facilities = FacilityPickerField(
        label=_("追加する事業所"),
        queryset=Facility.objects.none(),
        help_text=_(
            "事業所名で探して選びます。印刷した追加同意書に患者（または家族・代理人）の署名を"
            "得て、署名済みとして記録するまで、この事業所の職員は招待できません。"
        ),
        error_messages={"required": _("追加する事業所を1つ以上選んでください。")},
    )

    def __init__(self, *args, consent, viewer=None, facility_query="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilities"].queryset = Facility.objects.filter(
            state=Facility.State.ACTIVE
        ).exclude(pk__in=consent.covered_facilities.values("pk"))
        show_facility_choices(self, "facilities", viewer=viewer, defaults=[], query=facility_query)


class SignedPaperForm(forms.Form):
    """That a separately signed page (addendum, academic-use consent) is here: its date and
    its scan, or that the original is kept at the facility."""

    signed_on = JapaneseDateField(
        label=_("署名日"),
        picker=True,
        error_messages={"required": _("署名日を入力してください。")},
    )
    scan = forms.FileField(label=_("署名済みの書面の画像（PDF・JPEG・PNG）"), required=False)
    paper_kept_at_facility = forms.BooleanField(label=_("原本を事業所で保管"), required=False)

    def clean_signed_on(self):
        return _not_future(self.cleaned_data.get("signed_on"), _("署名日"))

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        return scan_upload(scan) if scan else None

    def clean(self):
        data = super().clean()
        if (
            not data.get("scan")
            and not data.get("paper_kept_at_facility")
            and not self.has_error("scan")
        ):
            self.add_error(
                "scan",
                _("署名済みの書面の画像を添付するか、「原本を事業所で保管」を選んでください。"),
            )
        return data


class AcademicWithdrawalForm(forms.Form):
    """学術利用への同意だけの撤回: the care consent stays valid."""

    withdrawn_on = WithdrawalForm.base_fields["withdrawn_on"]
    reported_by = WithdrawalForm.base_fields["reported_by"]
    method = WithdrawalForm.base_fields["method"]

    def clean_withdrawn_on(self):
        return _not_future(self.cleaned_data.get("withdrawn_on"), _("撤回日"))


# --- 別紙6 ご本人の照会: the patient's own requests ---------------------------------------------


class PatientRequestForm(forms.Form):
    """Who asked, for what, how and when (個人情報保護法 §33–35)."""

    kind = forms.ChoiceField(label=_("請求の種類"), choices=PatientRequest.Kind.choices)
    requester_kind = forms.ChoiceField(
        label=_("請求した人"), choices=PatientRequest.Requester.choices
    )
    requester_name = forms.CharField(
        label=_("請求した人の氏名"),
        max_length=100,
        error_messages={"required": _("請求した人の氏名を入力してください。")},
    )
    requester_relationship = forms.CharField(
        label=_("続柄（家族・代理人のとき）"),
        max_length=50,
        required=False,
        help_text=_("例: 長男、妻、成年後見人"),
    )
    requester_contact = forms.CharField(
        label=_("回答の送り先（住所・電話）"), max_length=300, required=False
    )
    channel = forms.ChoiceField(label=_("受付の方法"), choices=PatientRequest.Channel.choices)
    received_on = JapaneseDateField(
        label=_("受付日"),
        picker=True,
        error_messages={"required": _("受付日を入力してください。")},
    )
    details = forms.CharField(
        label=_("請求の内容"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("訂正の場合は、どこをどう直すかを記入します。"),
    )

    def clean_received_on(self):
        return _not_future(self.cleaned_data.get("received_on"), _("受付日"))


class IdentityCheckForm(forms.Form):
    """別紙6: how the asker was known to be the patient, or family or agent entitled to ask."""

    document = forms.ChoiceField(
        label=_("本人確認の方法"), choices=PatientRequest.IdentityDocument.choices
    )
    note = forms.CharField(
        label=_("メモ"),
        max_length=300,
        required=False,
        help_text=_("番号などは書かず、確認した書類と、代理人の場合は委任状などを記入します。"),
    )


class RequestCloseForm(forms.Form):
    state = forms.ChoiceField(
        label=_("結果"),
        choices=[
            (PatientRequest.State.ANSWERED, _("回答した（請求に応じた）")),
            (PatientRequest.State.REJECTED, _("却下した（応じられない理由を記入）")),
        ],
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(
        label=_("対応の結果・理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("対応の結果（却下の場合はその理由）を入力してください。")},
    )
    replied_on = JapaneseDateField(
        label=_("回答日"),
        picker=True,
        error_messages={"required": _("回答日を入力してください。")},
    )


class RequestStopUseForm(forms.Form):
    withdrawn_on = JapaneseDateField(label=_("利用停止（同意の撤回）の日"), picker=True)
    note = forms.CharField(
        label=_("記録"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_withdrawn_on(self):
        return _not_future(self.cleaned_data.get("withdrawn_on"), _("利用停止の日"))


class RequestEraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("この患者の個人情報を今すぐ削除します。元に戻せないことを確認しました。"),
        error_messages={"required": _("確認のチェックを入れてください。")},
    )


class RecordOpenForm(forms.Form):
    """Why a custodian opens a record whose care has ended (consents.permissions)."""

    purpose = forms.ChoiceField(
        label=_("閲覧の目的"),
        choices=[("", "---------"), *OpeningPurpose.choices],
        error_messages={"required": _("閲覧の目的を選んでください。")},
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)
