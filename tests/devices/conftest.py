"""Shared pieces of the devices tests: the demo's objects at 高田, found by natural key."""

import datetime as dt

import pytest
from django.utils import timezone

from devices import services
from devices.models import Device, IncidentReport, LossReport, TakeoutRequest


@pytest.fixture
def tablet(takada):
    return Device.objects.get(facility=takada, label="訪問用タブレット1号")


@pytest.fixture
def pending(takada):
    return TakeoutRequest.objects.get(facility=takada, state=TakeoutRequest.State.PENDING)


@pytest.fixture
def approved(takada):
    return TakeoutRequest.objects.get(facility=takada, state=TakeoutRequest.State.APPROVED)


@pytest.fixture
def loss(takada):
    return LossReport.objects.get(facility=takada)


@pytest.fixture
def escalated(takada):
    from devices.demo import INCIDENT_TEXT

    return IncidentReport.objects.get(facility=takada, description=INCIDENT_TEXT)


@pytest.fixture
def fresh_incident(people, takada):
    """A report the nurse just filed: not acknowledged, not escalated."""
    return services.incident_file(
        actor=people["user"],
        facility=takada,
        kind=IncidentReport.Kind.ANOMALY,
        occurred_at=timezone.now() - dt.timedelta(minutes=30),
        description="MCSの画面が真っ白になり、別の利用者の名前が一瞬表示された。",
    )


def refresh(obj):
    obj.refresh_from_db()
    return obj
