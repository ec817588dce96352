"""Every date people type is read in 和暦 or 西暦 (mcnet.forms.JapaneseDateField): dates near
today keep the phone's date picker (type=date, which sends 2026-04-01), and a browser that
shows a plain box instead may take 令和8年4月1日, R8.4.1 or ２０２６／４／１ as well."""

import datetime as dt

import pytest
from django import forms

from consents.forms import RequestCloseForm, SignedPaperForm, WithdrawalForm
from devices.forms import DeviceForm, TakeoutRequestForm
from facilities.forms import EducationForm, PledgeForm
from groups.forms import PostDeletionForm
from mcnet.auditlog.forms import AuditSearchForm
from mcnet.forms import DatePickerInput, JapaneseDateField
from mcnet.rulebook.forms import RuleTextForm

APRIL_FIRST = dt.date(2026, 4, 1)
TYPED = ["令和8年4月1日", "R8.4.1", "２０２６／４／１", "2026年4月1日", "2026-04-01"]

FIELDS = [
    (WithdrawalForm, "withdrawn_on"),
    (SignedPaperForm, "signed_on"),
    (RequestCloseForm, "replied_on"),
    (PledgeForm, "signed_on"),
    (EducationForm, "held_on"),
    (PostDeletionForm, "deleted_on"),
    (RuleTextForm, "effective_on"),
    (TakeoutRequestForm, "period_end"),
    (AuditSearchForm, "date_from"),
]


@pytest.mark.parametrize(("form_class", "name"), FIELDS)
def test_typed_dates_keep_the_picker_and_read_wareki_and_seireki(form_class, name):
    field = form_class.base_fields[name]
    assert isinstance(field, JapaneseDateField), (form_class, name)
    assert isinstance(field.widget, DatePickerInput)
    html = field.widget.render(name, APRIL_FIRST)
    assert 'type="date"' in html and 'value="2026-04-01"' in html
    for typed in TYPED:
        assert field.clean(typed) == APRIL_FIRST, (form_class, name, typed)


def test_a_date_that_does_not_exist_is_refused_with_the_reason():
    field = WithdrawalForm.base_fields["withdrawn_on"]
    with pytest.raises(forms.ValidationError) as refused:
        field.clean("平成31年5月1日")
    assert "平成31年4月30日まで" in str(refused.value)
    with pytest.raises(forms.ValidationError) as refused:
        field.clean("来週")
    assert "の形で入力してください" in str(refused.value)


def test_the_device_checklist_dates_read_wareki_too():
    for name, _label in DeviceForm.Meta.model.CHECKLIST:
        field = DeviceForm.base_fields[name]
        assert isinstance(field, JapaneseDateField) and isinstance(field.widget, DatePickerInput)
        assert field.clean("R8.4.1") == APRIL_FIRST


def test_a_birth_date_stays_a_text_box_for_wareki():
    field = JapaneseDateField()
    assert 'type="text"' in field.widget.render("birth_date", None)
    assert "和暦" in str(field.help_text)
