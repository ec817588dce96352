"""Every form posted once: a one-time token in each POST form, checked before the view runs.

Every page that renders a POST form renders `{% csrf_token %}` in it (Django refuses the post
otherwise); that tag is replaced, for every template of the portal, the admin's and allauth's
included (TEMPLATES' builtins: mcnet/templatetags/submission.py), by one that also renders a
hidden `_submission` field with a fresh random token. `SubmitOnceMiddleware` records the token
before the view runs (a unique row, committed at once):

- the first post of a token runs the view; a redirect (the result of a form done) is kept
  with the token, anything else (a form shown again with its errors, a refusal, an error)
  gives the token back, since nothing was done; so does signing in or out, or switching the
  language (`_replayable`: a redirect alone cannot give the browser their cookies);
- a second post of the same token (a double click, a reload, a resent request) does not run
  the view: it waits for the first to finish and is sent where the first was sent, so the
  browser, which shows the last response, shows the first one's result;
- a post without a token (an API client, a test) is handled as before.

Tokens are kept a day (`purge_old`, daily).
"""

import datetime as dt
import re
import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import FormSubmission

FIELD = "_submission"
_TOKEN = re.compile(r"[0-9a-f]{32}")
# How long a second post waits for the first to finish before it gives up (409).
WAIT_FOR_FIRST = 15.0
# A first post unfinished after this long died with its process: its token is free again.
ABANDONED_AFTER = dt.timedelta(minutes=2)
KEEP = dt.timedelta(days=1)


def new_token() -> str:
    return secrets.token_hex(16)


def _claim(*, token: str, user_id, path: str) -> bool:
    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=token, user_id=user_id, path=path[:300])
    except IntegrityError:
        return False
    return True


def begin(request, token: str) -> HttpResponse | None:
    """None: this is the token's first post, run the view. Otherwise the answer to a post
    of a token already used: the first one's result, or 409 if it is still running."""
    user_id = request.user.pk if getattr(request, "user", None) is not None else None
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        if _claim(token=token, user_id=user_id, path=request.path):
            return None
        first = FormSubmission.objects.filter(token=token).first()
        if first is None:
            continue  # the first post gave the token back just now: this one runs the view
        if first.user_id != user_id:
            # Someone else's token: never show them where another person's post went.
            return HttpResponse(
                _("このフォームは使えません。ページを開き直してください。"), status=400
            )
        if first.completed_at is not None:
            messages.info(
                request, _("同じフォームが二度送信されたため、最初の送信の結果を表示しています。")
            )
            return HttpResponseRedirect(first.location)
        if first.created_at < timezone.now() - ABANDONED_AFTER:
            FormSubmission.objects.filter(pk=first.pk, completed_at__isnull=True).delete()
            continue
        if time.monotonic() > deadline:
            return HttpResponse(
                _(
                    "同じフォームの送信を処理しています。しばらくしてからページを開き直してください。"
                ),
                status=409,
            )
        time.sleep(0.1)


def _who(request) -> tuple:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return (user.pk if user is not None else None, session.session_key if session else None)


# Cookies a form's result may set and still be replayed: the messages, the same session.
_REPLAYABLE_COOKIES = {"messages", settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}


def _replayable(request, response, who_before: tuple) -> bool:
    """A post that changed who the browser is (signing in or out rotates the session) or set
    a preference cookie (the language) cannot be answered by a redirect alone: the browser,
    which dropped the first response, never got its cookies. Such posts are harmless to do
    again, so their token is given back instead."""
    user_before, session_before = who_before
    user_after, session_after = _who(request)
    if user_after != user_before:
        return False
    if session_before is not None and session_after != session_before:
        return False
    return not set(response.cookies) - _REPLAYABLE_COOKIES


def finish(request, token: str, response: HttpResponse, who_before: tuple) -> None:
    """The first post of `token` is answered: keep where it went, or free the token."""
    location = response.get("Location", "") if 300 <= response.status_code < 400 else ""
    if location and _replayable(request, response, who_before):
        FormSubmission.objects.filter(token=token).update(
            completed_at=timezone.now(), location=location[:2000]
        )
    else:
        FormSubmission.objects.filter(token=token, completed_at__isnull=True).delete()


def purge_old(*, now=None) -> int:
    now = now or timezone.now()
    deleted, _by_model = FormSubmission.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted


class SubmitOnceMiddleware:
    """After CSRF (its process_view refuses a forged post first) and messages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "_submission_token", None)
        if token is not None:
            finish(request, token, response, request._submission_who)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        token = request.POST.get(FIELD, "")
        if not _TOKEN.fullmatch(token):
            return None
        answer = begin(request, token)
        if answer is None:
            request._submission_token = token
            request._submission_who = _who(request)
        return answer
