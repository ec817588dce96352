"""Fixtures of the dashboard's tests: a center in an otherwise empty network, signed in (with
its second factor)."""

import pytest

from tests import factories
from tests.conftest import log_in


@pytest.fixture
def center(db):
    """A member of the center's staff, in a network that is otherwise empty."""
    return factories.row_center_user()


@pytest.fixture
def center_client(client, center):
    return log_in(client, center, mfa=True)
