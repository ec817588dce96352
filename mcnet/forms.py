"""Form fields that normalize what Japanese keyboards type before validating it."""

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .text import normalize_email, normalize_kana, normalize_phone, normalize_postal_code
from .wareki import DateParseError, parse_date

PHONE_RE = re.compile(r"^\+?[0-9][0-9-]{8,14}$")
POSTAL_CODE_RE = re.compile(r"^[0-9]{3}-[0-9]{4}$")


class NormalizedEmailField(forms.EmailField):
    """The MCS ID: ｘyz＠ｇmail．com is xyz@gmail.com; still invalid after that is an error."""

    default_error_messages = {
        "invalid": _("メールアドレスの形式が正しくありません（例: name@example.jp）。"),
    }

    # A text input: a browser's type=email check would refuse the full-width ＠ before we
    # could normalize it.
    widget = forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"})

    def to_python(self, value):
        return normalize_email(super().to_python(value) or "")


class _PatternField(forms.CharField):
    """A CharField that normalizes, then checks one pattern with its own Japanese message."""

    pattern: re.Pattern
    normalize = staticmethod(lambda value: value)

    def to_python(self, value):
        return self.normalize(super().to_python(value) or "")

    def run_validators(self, value):
        super().run_validators(value)
        if value and not self.pattern.match(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class PhoneField(_PatternField):
    pattern = PHONE_RE
    normalize = staticmethod(normalize_phone)
    default_error_messages = {
        "invalid": _("電話番号は数字とハイフンで入力してください（例: 025-111-1111）。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})


class PostalCodeField(_PatternField):
    pattern = POSTAL_CODE_RE
    normalize = staticmethod(normalize_postal_code)
    default_error_messages = {
        "invalid": _("郵便番号は7桁の数字で入力してください（例: 943-1111）。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "postal-code"})


class KanaField(forms.CharField):
    """ふりがな: hiragana or katakana of any width, stored as full-width katakana."""

    def to_python(self, value):
        return normalize_kana(super().to_python(value) or "")


def no_browser_storage(form: forms.Form) -> forms.Form:
    """Art. 12 (4): browsers must not store IDs or passwords; ask them not to offer it."""
    for field in form.fields.values():
        if isinstance(field.widget, forms.PasswordInput):
            field.widget.attrs["autocomplete"] = "off"
    return form


def add_refusal(form: forms.Form, exc: ValidationError, field: str | None = None) -> None:
    """A service said no: show its reasons on the form, on the field a reason names when the
    form has it, else on `field` (or the whole form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else field, errors)
    else:
        for message in exc.messages:
            form.add_error(field, message)


def query_choice(request, name: str, allowed, default: str = "") -> str:
    """A list's GET parameter (a tab, a filter, a sort): one of `allowed`, else `default` (a
    stale or edited link shows the default list, never an error)."""
    value = request.GET.get(name, default)
    return value if value in allowed else default


def query_text(request, name: str = "q", limit: int = 100) -> str:
    """A list's search words, cut to `limit` characters."""
    return request.GET.get(name, "")[:limit].strip()


def posted(request, *, files: bool = False):
    """What a form binds to: the POST (or its files) when posted, even when empty — a form
    with no fields is still submitted — and None on GET."""
    if request.method != "POST":
        return None
    return request.FILES if files else request.POST


class DatePickerInput(forms.DateInput):
    """The browser's date picker (type=date), easiest on a phone for a recent date; it sends
    1942-09-03. A browser without one shows a plain box, read by JapaneseDateField."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class JapaneseDateField(forms.DateField):
    """A date typed in 和暦 or 西暦 (昭和17年9月3日, S17.9.3, 1942-09-03), any width.

    A text input by default: a browser's type=date input cannot take 和暦 (a birth date is
    told in 和暦). `picker=True` shows the date picker for dates near today (signed, held,
    reported on); whatever reaches the field is still read in 和暦 or 西暦.
    """

    def __init__(self, *, picker: bool = False, **kwargs):
        if picker:
            kwargs.setdefault("widget", DatePickerInput())
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"placeholder": _("例: 昭和17年9月3日 / 1942-09-03"), "autocomplete": "off"}
            ),
        )
        if not picker:
            kwargs.setdefault(
                "help_text",
                _("和暦（昭和17年9月3日、S17.9.3）でも西暦（1942-09-03）でも入力できます。"),
            )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except DateParseError as exc:
            raise ValidationError(str(exc), code="invalid") from None


def picked(data: dict, *names: str) -> dict:
    """The named fields of a form's cleaned data: the arguments of the service the form feeds
    (a confirmation box or a search field stays behind)."""
    return {name: data[name] for name in names}
