"""The enrollment part of the permission matrix, on its own: every URL, every role."""

import pytest
from django.db import transaction
from django.urls import reverse

from tests.security.expectations_base import ROLES
from tests.security.expectations_enrollment import EXPECTATIONS
from tests.security.test_permission_matrix import _outcome


@pytest.mark.parametrize("role", ROLES)
def test_enrollment_urls_answer_each_role_as_expected(client_as, role, settings):
    settings.MCNET_REQUIRE_MFA = True
    client = client_as(role)
    wrong = []
    for name, expect in EXPECTATIONS.items():
        kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
        data = expect.data() if callable(expect.data) else expect.data
        url = reverse(name, kwargs=kwargs)
        with transaction.atomic():
            response = getattr(client, expect.method)(url, data)
            transaction.set_rollback(True)
        got = _outcome(response)
        if got != expect.for_role(role):
            wrong.append(f"{name} {url}: expected {expect.for_role(role)}, got {got}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_every_enrollment_url_is_in_the_matrix():
    from tests.security.urls import all_url_patterns

    names = {key for key, _route in all_url_patterns() if key.startswith("enrollment:")}
    # The applicant's printed 別紙1・別紙2 (printing:application_preview) answers to the same
    # status token, so its expectation lives here too.
    assert names == {name for name in EXPECTATIONS if name.startswith("enrollment:")}
