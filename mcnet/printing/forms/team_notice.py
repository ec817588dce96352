"""「あなたの支援チーム」 (別紙5 (2)): the facilities and professions in the patient's team,
dated, for the patient and family.

Printed for a patient group by its managers (groups.selectors.team_notice_groups_for);
asking for it records the notice given (groups.services.team_notice_record), so the group's
page can tell when the team has changed since.
"""

from django.utils import timezone

from groups.models import Group
from groups.selectors import team_notice_groups_for, team_rows
from groups.services import team_notice_record
from mcnet.wareki import wareki

from .. import samples
from ..targets import Target
from .base import form, pick, text


def context(*, patient: dict | None = None, team=(), date=None, manager: dict | None = None):
    """`team`: by facility, its name, kind, phone and the professions working there."""
    return form(
        "team_notice",
        patient=pick(patient, ("name",)),
        team=[
            {
                **pick(entry, ("name", "kind", "phone")),
                "professions": [text(p) for p in entry.get("professions", [])],
            }
            for entry in team or []
        ],
        date=wareki(date),
        manager=pick(manager, ("name", "facility", "phone")),
    )


def _team(group: Group) -> list[dict]:
    by_facility: dict[int, dict] = {}
    for facility, _code, label in team_rows(group):
        entry = by_facility.setdefault(
            facility.pk,
            {
                "name": facility.name,
                "kind": facility.get_kind_display(),
                "phone": facility.phone,
                "professions": [],
            },
        )
        if label and label not in entry["professions"]:
            entry["professions"].append(str(label))
    return sorted(by_facility.values(), key=lambda entry: entry["name"])


def for_group(group: Group) -> dict:
    manager = group.manager
    return context(
        patient={"name": group.patient.name},
        team=_team(group),
        date=timezone.localdate(),
        manager={
            "name": getattr(manager, "name", "") or "",
            "facility": group.facility.name if group.facility_id else "",
            "phone": group.facility.phone if group.facility_id else "",
        },
    )


def _record(actor, group: Group) -> None:
    team_notice_record(actor=actor, group=group)


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(
        patient=samples.PATIENT,
        team=samples.TEAM,
        date=samples.SAMPLE_DATE,
        manager=samples.EXPLAINER,
    )


TARGETS = (
    Target(
        model="groups.Group",
        visible_to=lambda user: team_notice_groups_for(user).select_related("patient", "facility"),
        context=for_group,
        label=lambda group: f"No.{group.pk}",
        on_request=_record,
    ),
)
