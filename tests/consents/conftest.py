"""Fixtures of the consents tests (shared with the groups tests)."""

from tests.groups.conftest import login_as  # noqa: F401
