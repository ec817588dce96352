"""Fixtures of the groups tests."""

import pytest
from allauth.mfa.models import Authenticator

from tests.conftest import ADMINISTRATOR_ROLES as ADMIN_ROLES
from tests.conftest import activate_totp


@pytest.fixture
def login_as(client, people):
    """Like client_as, but may be called again for the same role within one test."""

    def login(role: str):
        client.logout()
        user = people[role]
        if role in ADMIN_ROLES and not Authenticator.objects.filter(user=user).exists():
            activate_totp(user)
        client.force_login(user)
        return client

    return login
