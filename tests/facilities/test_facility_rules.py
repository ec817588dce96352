"""第14条: a facility's manager sets the facility's own rules for its staff, as versions; its
staff read the version in force; other facilities' staff and the center do not see them."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from facilities import services
from mcnet.models import AuditEvent
from mcnet.rulebook.models import RuleVersion

SOURCE = "（持ち出し）\n第１条　訪問用タブレットは事業所の金庫で保管する。\n"


def test_the_manager_publishes_and_the_staff_read_the_version_in_force(client_as, people, demo):
    takada = demo["takada"]
    client = client_as("mcs_admin")  # 高田's MCS administrator and facility manager
    today = timezone.localdate()
    response = client.post(
        reverse("facilities:facility_rules_publish", args=[takada.pk]),
        {
            "source": SOURCE,
            "summary": "制定",
            "approved_on": today.isoformat(),
            "effective_on": (today + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    version = RuleVersion.objects.get(document="facility_rules", facility=takada)
    assert AuditEvent.objects.filter(
        action="rulebook.publish", object_id=str(version.pk), facility_id=takada.pk
    ).exists()
    url = reverse("facilities:facility_rules", args=[takada.pk])
    nurse = client_as("user")
    page = nurse.get(url).content.decode()
    assert "施行中の定めはありません" in page  # not in force for a week
    RuleVersion.objects.filter(pk=version.pk).update(effective_on=today)
    page = nurse.get(url).content.decode()
    assert "訪問用タブレットは事業所の金庫で保管する。" in page
    for role in ("other_facility_user", "other_mcs_admin", "center"):
        assert client_as(role).get(url).status_code == 404, role


def test_only_the_facility_manager_publishes(people, demo):
    today = timezone.localdate()
    for role in ("user", "other_mcs_admin", "center"):
        with pytest.raises(PermissionDenied):
            services.facility_rules_publish(
                actor=people[role],
                facility=demo["takada"],
                source=SOURCE,
                approved_on=today,
                effective_on=today,
            )
    assert not RuleVersion.objects.filter(document="facility_rules").exists()
