"""mcnet.actions (a page's one write) and {% wrap %} (an include with a body), without the
database: the apps' page tests cover them in place."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory

from mcnet.actions import form_action, post_action


class ReasonForm(forms.Form):
    reason = forms.CharField()
    note = forms.CharField(required=False)


def _request(method="post", data=None):
    request = getattr(RequestFactory(), method)("/", data or {})
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _said(request):
    return [(m.level_tag, str(m)) for m in get_messages(request)]


def _refuse(exc):
    def act(_data):
        raise exc

    return act


def test_a_get_or_an_invalid_form_shows_the_form():
    assert (
        form_action(_request("get"), ReasonForm(), _refuse(AssertionError), success="", then=None)
        is None
    )
    form = ReasonForm({})
    assert form_action(_request(), form, _refuse(AssertionError), success="", then=None) is None
    assert "reason" in form.errors


def test_success_says_the_message_and_answers_then_with_the_services_result():
    request = _request()
    answer = form_action(
        request,
        ReasonForm({"reason": "r"}),
        lambda data: data["reason"] * 2,
        success=lambda result: f"done {result}",
        then=lambda result: HttpResponse(result),
    )
    assert answer.content == b"rr"
    assert _said(request) == [("success", "done rr")]


@pytest.mark.parametrize(
    ("refusal_field", "exc", "field"),
    [
        (None, ValidationError("no"), None),
        ("reason", ValidationError("no"), "reason"),
        ("reason", ValidationError({"note": "no"}), "note"),  # the field the reason names
        ("reason", ValidationError({"other": "no"}), "reason"),  # a field the form lacks
        ({"code": "note"}, ValidationError("no", code="code"), "note"),
        ({"code": "note"}, ValidationError("no", code="else"), None),
    ],
)
def test_a_refusal_lands_on_its_field(refusal_field, exc, field):
    form = ReasonForm({"reason": "r"})
    request = _request()
    answer = form_action(
        request, form, _refuse(exc), success="x", then=None, refusal_field=refusal_field
    )
    assert answer is None
    assert form.errors[field or "__all__"] == ["no"]
    assert _said(request) == []


def test_permission_denied_goes_to_denied_or_up_to_django():
    form = ReasonForm({"reason": "r"})
    with pytest.raises(PermissionDenied):
        form_action(_request(), form, _refuse(PermissionDenied("why")), success="", then=None)
    answer = form_action(
        _request(),
        form,
        _refuse(PermissionDenied("why")),
        success="",
        then=None,
        denied=lambda error: HttpResponse(str(error), status=403),
    )
    assert (answer.status_code, answer.content) == (403, b"why")


def test_a_button_says_its_refusal_in_one_message_and_goes_back_either_way():
    back = HttpResponse("back")
    request = _request()
    assert (
        post_action(
            request, lambda: _refuse(ValidationError(["a", "b"]))(None), success="", then=back
        )
        is back
    )
    assert _said(request) == [("error", "a b")]
    request = _request()
    assert post_action(request, lambda: 3, success=lambda n: f"{n} done", then=back) is back
    assert _said(request) == [("success", "3 done")]


def test_wrap_puts_the_body_into_the_shared_template_and_hands_over_only_its_values():
    page = Template(
        '{% load wrap %}{% wrap "_list_table.html" with rows=rows empty="none" %}'
        "<tr><td>{{ secret }}</td></tr>{% endwrap %}"
    )
    shown = page.render(Context({"rows": [1], "secret": "<b>", "table_class": "leaked"}))
    assert "<table>" in shown and "<td>&lt;b&gt;</td>" in shown
    shown = page.render(Context({"rows": [], "secret": "<b>"}))
    assert "<p>none</p>" in shown and "<table" not in shown
