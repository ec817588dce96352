"""Fixtures of the consents tests."""

import pytest

from tests.factories import made_patient


@pytest.fixture
def patient(demo, people):
    """A new patient of 春日野, registered by its care manager (no consent yet)."""
    return made_patient(manager=people["group_manager"], facility=demo["kasugano"])
