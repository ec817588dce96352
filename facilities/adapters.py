from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mcnet.middleware import client_ip
from mcnet.text import normalize_email


class AccountAdapter(DefaultAccountAdapter):
    """No self sign-up: accounts come from the center's registration and from invitations."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Says what to do: the limit is per account and per address (ACCOUNT_RATE_LIMITS), and
        # a password reset lifts the account's (allauth clears it when the reset is done).
        "too_many_login_attempts": gettext_lazy(
            "ログインの失敗が続いたため、このアカウントまたはこの接続元からのログインを"
            "一時的に止めています。5分ほど待ってからもう一度お試しください。"
            "パスワードが分からない場合は「パスワードをお忘れですか？」から再設定してください。"
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def clean_email(self, email: str) -> str:
        return normalize_email(super().clean_email(email))

    def get_client_ip(self, request) -> str:
        """Login throttling keys on the same address as the audit trail (MCNET_TRUSTED_PROXIES),
        not on the proxy every user shares nor on an X-Forwarded-For entry the client wrote."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied(_("接続元のアドレスを判別できませんでした。"))
        return ip
