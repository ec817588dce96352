"""Nothing typed is lost to the idle timeout (art. 11 (4)(5) ends an idle session).

A form posted after the session ended would only be answered with the login page. Instead:

- while someone is signed in, their browser holds a signed cookie naming them (`WHO`): the
  session may be gone by the time they post, this cookie says who was typing;
- a POST that the portal answers with the login page, from a browser whose `WHO` cookie is
  valid, is kept: its fields (not its files, not its tokens) are encrypted with a fresh key
  and stored as a `KeptForm` row; the key goes only into the browser (`KEPT` cookie);
- after signing in, the first visit of the same page by the same person reads the row back
  and deletes it; the page's script fills the form (`mcnet/static/mcnet/keptform.js`); the
  person checks it and sends it again. Anyone else signing in on that browser gets nothing.

Signing out on purpose forgets the `WHO` cookie: nothing is kept after that. Rows older than
KEEP, whose keys expired with their cookies, are deleted whenever a form is kept.
"""

import datetime as dt
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib import messages
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import KeptForm

WHO = "mcnet_who"
KEPT = "mcnet_kept"
SALT = "mcnet.keptforms"
KEEP = dt.timedelta(minutes=30)
# Fields that belong to the page, not to what was typed.
NOT_KEPT = {"csrfmiddlewaretoken", "_submission"}


def _set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_signed_cookie(
        name,
        value,
        salt=SALT,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _cookie(request, name: str, max_age: int) -> str | None:
    return request.get_signed_cookie(name, default=None, salt=SALT, max_age=max_age)


def keep(request, response) -> None:
    """Keep what `request` posted, for the person its `WHO` cookie names."""
    user_id = _cookie(request, WHO, max_age=12 * 3600)
    if not user_id:
        return
    fields = {
        name: request.POST.getlist(name)
        for name in request.POST
        if name not in NOT_KEPT and "password" not in name
    }
    if not any(value for name, values in fields.items() if name != "next" for value in values):
        return  # nothing typed (the idle warning's own button, for one)
    purge_old()  # the keys of older rows are gone with their cookies
    key = Fernet.generate_key()
    row = KeptForm.objects.create(
        user_id=int(user_id),
        path=request.path[:300],
        ciphertext=Fernet(key).encrypt(json.dumps(fields).encode()),
    )
    _set_cookie(response, KEPT, f"{row.pk}:{key.decode()}", int(KEEP.total_seconds()))
    messages.warning(
        request,
        _(
            "一定時間操作がなかったため、ログアウトしました（運用管理規程第11条）。"
            "ログインし直すと、送信しようとした入力内容を復元します。"
        ),
    )


def restore(request, response_cookies: list) -> dict | None:
    """The fields kept for this person and this page, once; None when there are none."""
    value = _cookie(request, KEPT, max_age=int(KEEP.total_seconds()))
    if not value:
        return None
    pk, _sep, key = value.partition(":")
    row = KeptForm.objects.filter(pk=pk, created_at__gte=timezone.now() - KEEP).first()
    if row is None or row.path != request.path:
        if row is None:
            response_cookies.append(KEPT)  # gone or stale: forget the cookie
        return None
    response_cookies.append(KEPT)
    row.delete()
    if row.user_id != request.user.pk:  # someone else signed in on this browser
        return None
    try:
        fields = json.loads(Fernet(key.encode()).decrypt(bytes(row.ciphertext)))
    except (InvalidToken, ValueError):
        return None
    messages.info(
        request,
        _("ログアウト前の入力内容を復元しました。内容を確かめて、もう一度送信してください。"),
    )
    return fields


def purge_old(*, now=None) -> int:
    now = now or timezone.now()
    deleted, _kinds = KeptForm.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted


class KeepFormMiddleware:
    """After the authentication and idle-timeout middleware: keeps a POST answered with the
    login page, restores it on the page's next visit, and tracks who is signed in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        forget = []
        if signed_in and request.method == "GET" and KEPT in request.COOKIES:
            request.kept_form = restore(request, forget)
        response = self.get_response(request)
        if request.method == "POST" and not signed_in and self._to_login(response):
            keep(request, response)
        if request.user.is_authenticated:
            if _cookie(request, WHO, max_age=12 * 3600) != str(request.user.pk):
                _set_cookie(response, WHO, str(request.user.pk), 12 * 3600)
        elif signed_in:  # signed out on purpose during this request
            response.delete_cookie(WHO, samesite="Lax")
        for name in forget:
            response.delete_cookie(name, samesite="Lax")
        return response

    @staticmethod
    def _to_login(response) -> bool:
        return response.status_code == 302 and response.url.startswith(
            resolve_url(settings.LOGIN_URL)
        )
