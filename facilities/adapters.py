from allauth.account.adapter import DefaultAccountAdapter

from mcnet.text import normalize_email


class AccountAdapter(DefaultAccountAdapter):
    """No self sign-up: accounts come from the center's registration and from invitations."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def clean_email(self, email: str) -> str:
        return normalize_email(super().clean_email(email))
