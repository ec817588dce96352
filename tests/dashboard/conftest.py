"""Fixtures of the dashboard's tests: a signed-in center (with its second factor)."""

import pytest

from tests.conftest import ADMINISTRATOR_ROLES, activate_totp

from . import factories


@pytest.fixture
def center(db):
    """A member of the center's staff, in a network that is otherwise empty."""
    return factories.center_user()


@pytest.fixture
def center_client(client, center):
    activate_totp(center)
    client.force_login(center)
    return client


@pytest.fixture
def login_as(client, people):
    """Sign in as a demo role (administrators with TOTP, as tests/conftest.py client_as)."""
    from allauth.mfa.models import Authenticator

    def login(role: str):
        client.logout()
        person = people[role]
        if role in ADMINISTRATOR_ROLES and not Authenticator.objects.filter(user=person).exists():
            activate_totp(person)
        client.force_login(person)
        return client

    return login
