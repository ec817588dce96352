"""The periodic reminder sweep (留意事項 1, 2), set-based for a million groups: it sends
exactly what the per-group loop sent (manager reminder, the MCS administrator's escalation after
REVIEW_ESCALATION_DAYS, archive waiting too long), nothing twice, nothing to inactive users,
and in as many queries for 30 overdue groups as for 3."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from facilities.models import User
from groups import services
from groups.models import Group
from groups.selectors import mcs_admins_of
from groups.services import REVIEW_ESCALATION_DAYS, _name_of
from mcnet.models import NetworkSettings, Notification
from tests.factories import (
    row_facility,
    row_free_group,
    row_patient_group,
    row_role,
    row_staff,
    row_user,
)

NOW = timezone.now().replace(microsecond=0)
DAY = dt.timedelta(days=1)
COLUMNS = ("recipient_id", "kind", "title", "body", "url", "reason", "dedupe_key")


def old_sweep(now) -> set[tuple]:
    """What the sweep sent when it went group by group (notify() per group, reverse() per
    link, mcs_admins_of() per facility), as rows: the oracle the set-based sweep must match."""
    network = NetworkSettings.load()
    interval = dt.timedelta(days=network.review_interval_days)
    review_cutoff = now - interval
    rows = set()

    def send(recipients, **fields):
        for person in recipients:
            if person is not None and person.is_active:
                rows.add((person.pk, *(str(fields[c]) for c in COLUMNS[1:])))

    overdue = Group.objects.filter(
        kind=Group.Kind.PATIENT, state=Group.State.ACTIVE, manager__isnull=False
    ).select_related("manager", "facility")
    for group in overdue:
        due_at = (group.last_reviewed_at or group.created_at) + interval
        if (group.last_reviewed_at or group.created_at) >= review_cutoff:
            continue
        key = f"groups.review_overdue:{group.pk}:{due_at:%Y%m%d}"
        send(
            [group.manager],
            kind="groups.review_overdue",
            title=_("「%(group)s」のサポーター精査の期限が過ぎています") % {"group": group.name},
            body=_("参加しているサポーターが適切か精査してください（留意事項1）。"),
            url=reverse("groups:review", args=[group.pk]),
            reason=_("あなたがこのグループの管理者であるため"),
            dedupe_key=key,
        )
        if now > due_at + dt.timedelta(days=REVIEW_ESCALATION_DAYS):
            send(
                mcs_admins_of(group.facility),
                kind="groups.review_overdue_admin",
                title=_("「%(group)s」のサポーター精査が大幅に遅れています")
                % {"group": group.label},
                body=_("グループ管理者（%(name)s さん）に精査を促してください（留意事項1）。")
                % {"name": _name_of(group.manager)},
                url=reverse("groups:handover", args=[group.pk]),
                reason=_("あなたがこのグループを管理する事業所のMCS管理者であるため"),
                dedupe_key=f"{key}:admin",
            )
    archive_cutoff = now - dt.timedelta(days=network.archive_deadline_days)
    for group in Group.objects.filter(
        state=Group.State.TO_BE_ARCHIVED, end_reported_at__lt=archive_cutoff
    ).select_related("facility"):
        send(
            mcs_admins_of(group.facility),
            kind="groups.archive_overdue",
            title=_("「%(group)s」がアーカイブを待っています") % {"group": group.label},
            body=_("利用を終了した患者のグループは速やかにアーカイブしてください（留意事項2）。"),
            url=reverse("groups:archive_group", args=[group.pk]),
            reason=_("あなたがこのグループを管理する事業所のMCS管理者であるため"),
            dedupe_key=f"groups.archive_overdue:{group.pk}",
        )
    return rows


def sent_rows() -> set[tuple]:
    return set(Notification.objects.filter(kind__startswith="groups.").values_list(*COLUMNS))


def overdue_group(fac, manager, *, days_late: int, reviewed: bool = True) -> Group:
    """A working patient group whose review is `days_late` days past its deadline."""
    interval = dt.timedelta(days=NetworkSettings.load().review_interval_days)
    base = NOW - interval - days_late * DAY
    group = row_patient_group(
        fac,
        created_at=base if not reviewed else base - 400 * DAY,
        last_reviewed_at=base if reviewed else None,
    )
    Group.objects.filter(pk=group.pk).update(manager=manager)
    return group


@pytest.fixture
def network(db):
    """Two facilities, their MCS administrators (one of them inactive), two group managers
    (one inactive), and groups in every situation the sweep tells apart."""
    kasugano, takada = row_facility(name="春日野"), row_facility(name="高田")
    admin = row_staff(kasugano, name="春日野 管理者")
    row_role(admin, kasugano)
    gone_admin = row_staff(kasugano, user_active=False)
    row_role(gone_admin, kasugano)
    row_role(row_staff(kasugano), kasugano, "facility_manager")  # not an MCS administrator
    takada_admin = row_staff(takada)
    row_role(takada_admin, takada)
    manager = row_staff(kasugano)
    User.objects.filter(pk=manager.pk).update(name="")  # the escalation names them by e-mail
    manager.refresh_from_db()
    gone_manager = row_staff(kasugano, user_active=False)
    groups = {
        "late": overdue_group(kasugano, manager, days_late=5),
        "very_late": overdue_group(kasugano, manager, days_late=REVIEW_ESCALATION_DAYS + 10),
        "never_reviewed": overdue_group(
            takada, manager, days_late=REVIEW_ESCALATION_DAYS + 1, reviewed=False
        ),
        "manager_gone": overdue_group(kasugano, gone_manager, days_late=REVIEW_ESCALATION_DAYS + 2),
        "on_time": overdue_group(kasugano, manager, days_late=-3),
        "no_manager": overdue_group(kasugano, None, days_late=REVIEW_ESCALATION_DAYS + 3),
        "waiting_long": row_patient_group(
            takada, state="to_be_archived", end_reported_at=NOW - 20 * DAY
        ),
        "waiting_short": row_patient_group(
            kasugano, state="to_be_archived", end_reported_at=NOW - 3 * DAY
        ),
        "archived": row_patient_group(
            kasugano, state="archived", end_reported_at=NOW - 300 * DAY, archived_at=NOW
        ),
        "free": row_free_group(kasugano, created_at=NOW - 900 * DAY),
    }
    Group.objects.filter(pk=groups["archived"].pk).update(manager=manager)
    return {
        "kasugano": kasugano,
        "takada": takada,
        "admin": admin,
        "gone_admin": gone_admin,
        "takada_admin": takada_admin,
        "manager": manager,
        "gone_manager": gone_manager,
        "groups": groups,
    }


def test_the_sweep_sends_exactly_what_the_per_group_loop_sent(network):
    expected = old_sweep(NOW)
    result = services.reminders_send(now=NOW)
    assert sent_rows() == expected
    assert result == {
        "reviews": sum(1 for r in expected if r[1] == "groups.review_overdue"),
        "escalations": sum(1 for r in expected if r[1] == "groups.review_overdue_admin"),
        "archives": sum(1 for r in expected if r[1] == "groups.archive_overdue"),
    }
    # The cases, spelled out: the oracle could be wrong the same way.
    groups, manager = network["groups"], network["manager"]
    assert result == {"reviews": 3, "escalations": 3, "archives": 1}
    by_kind = {}
    for recipient_id, kind, _title, _body, url, _reason, _key in expected:
        by_kind.setdefault(kind, set()).add((recipient_id, url))
    assert by_kind["groups.review_overdue"] == {
        (manager.pk, reverse("groups:review", args=[groups[name].pk]))
        for name in ("late", "very_late", "never_reviewed")
    }
    assert by_kind["groups.review_overdue_admin"] == {
        (network["admin"].pk, reverse("groups:handover", args=[groups["very_late"].pk])),
        (
            network["takada_admin"].pk,
            reverse("groups:handover", args=[groups["never_reviewed"].pk]),
        ),
        (network["admin"].pk, reverse("groups:handover", args=[groups["manager_gone"].pk])),
    }
    assert by_kind["groups.archive_overdue"] == {
        (
            network["takada_admin"].pk,
            reverse("groups:archive_group", args=[groups["waiting_long"].pk]),
        )
    }
    escalation = Notification.objects.get(
        kind="groups.review_overdue_admin", url__contains=f"/{groups['very_late'].pk}/"
    )
    assert manager.email in escalation.body  # named by e-mail: the manager has no name


def test_a_second_run_sends_nothing(network):
    services.reminders_send(now=NOW)
    count = Notification.objects.count()
    assert services.reminders_send(now=NOW) == {"reviews": 0, "escalations": 0, "archives": 0}
    assert services.reminders_send(now=NOW + DAY) == {"reviews": 0, "escalations": 0, "archives": 0}
    assert Notification.objects.count() == count


def test_inactive_recipients_get_nothing(network):
    services.reminders_send(now=NOW)
    for person in ("gone_admin", "gone_manager"):
        assert not Notification.objects.filter(recipient=network[person]).exists()
    # The manager who left is not reminded, but the administrator is still told (as before).
    manager_gone = network["groups"]["manager_gone"]
    assert Notification.objects.filter(
        kind="groups.review_overdue_admin",
        recipient=network["admin"],
        url=reverse("groups:handover", args=[manager_gone.pk]),
    ).exists()


def test_a_review_recorded_moves_the_deadline_and_a_new_reminder_comes_when_it_passes(network):
    late = network["groups"]["late"]
    services.reminders_send(now=NOW)
    Group.objects.filter(pk=late.pk).update(last_reviewed_at=NOW)
    assert services.reminders_send(now=NOW + 2 * DAY)["reviews"] == 0
    interval = NetworkSettings.load().review_interval_days
    later = NOW + (interval + 1) * DAY
    # This one again, and "on_time" now overdue too; the others were told already.
    assert services.reminders_send(now=later)["reviews"] == 2
    assert old_sweep(later) <= sent_rows()
    assert (
        Notification.objects.filter(
            kind="groups.review_overdue", url=reverse("groups:review", args=[late.pk])
        ).count()
        == 2
    )


def test_queries_do_not_grow_with_the_overdue_groups(network):
    kasugano, takada = network["kasugano"], network["takada"]
    others = [row_user() for _ in range(3)]
    for i in range(3):
        overdue_group(kasugano, others[i % 3], days_late=REVIEW_ESCALATION_DAYS + 5 + i)
    with CaptureQueriesContext(connection) as few:
        first = services.reminders_send(now=NOW)
    assert first["reviews"] == 6 and first["escalations"] == 6
    more_managers = [row_user() for _ in range(10)]
    for i in range(30):
        fac = kasugano if i % 2 else takada
        overdue_group(fac, more_managers[i % 10], days_late=REVIEW_ESCALATION_DAYS + 5 + i)
        row_patient_group(fac, state="to_be_archived", end_reported_at=NOW - (20 + i) * DAY)
    with CaptureQueriesContext(connection) as many:
        second = services.reminders_send(now=NOW)
    assert second == {"reviews": 30, "escalations": 30, "archives": 30}
    assert len(many) <= len(few), [q["sql"][:80] for q in many.captured_queries]
    with CaptureQueriesContext(connection) as repeat:
        assert services.reminders_send(now=NOW)["reviews"] == 0
    assert len(repeat) <= len(few)
