"""個人データの漏えい等の報告 (個人情報保護法第26条, 規則8条1項 1–9): a draft for the facility
to send to the commission — the facility, the dates and the items, never a patient's name.

Printed for a leak (devices.PrivacyLeak), for whoever may see it
(devices.selectors.leaks_visible_to).
"""

from devices.models import PrivacyLeak
from devices.selectors import leaks_visible_to
from mcnet.wareki import wareki

from .. import samples
from ..targets import Target
from .base import form, local_day, pick, text

# 規則8条1項: the items of a leak report, in the rule's order.
ITEMS = (
    ("overview", "概要"),
    ("data_items", "漏えい等が発生し、又は発生したおそれがある個人データの項目"),
    ("person_count", "漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数"),
    ("cause", "原因"),
    ("secondary_harm", "二次被害又はそのおそれの有無及びその内容"),
    ("response_to_persons", "本人への対応の実施状況"),
    ("publication", "公表の実施状況"),
    ("prevention", "再発防止のための措置"),
    ("other", "その他参考となる事項"),
)
FACILITY_FIELDS = ("name", "address", "phone", "manager_name")


def context(
    *,
    facility: dict | None = None,
    report_kind: str = "",
    known_at=None,
    improper_purpose: bool = False,
    preliminary_due=None,
    final_due=None,
    preliminary_reported_on=None,
    final_reported_on=None,
    persons_notified_on=None,
    persons_notified_how: str = "",
    group_count=None,
    items: dict | None = None,
) -> dict:
    items = items or {}
    return form(
        "leak_report",
        facility=pick(facility, FACILITY_FIELDS),
        report_kind=text(report_kind),
        known_on=wareki(known_at),
        improper_purpose=bool(improper_purpose),
        preliminary_due=wareki(preliminary_due),
        final_due=wareki(final_due),
        preliminary_reported_on=wareki(preliminary_reported_on),
        final_reported_on=wareki(final_reported_on),
        persons_notified_on=wareki(persons_notified_on),
        persons_notified_how=text(persons_notified_how),
        group_count=text(group_count),
        items=[
            {"number": n, "label": label, "value": text(items.get(key))}
            for n, (key, label) in enumerate(ITEMS, start=1)
        ],
    )


def for_leak(leak: PrivacyLeak) -> dict:
    facility = leak.facility
    report = leak.incident or leak.loss_report
    return context(
        facility={
            "name": facility.name,
            "address": facility.address,
            "phone": facility.phone,
            "manager_name": facility.manager_name,
        },
        report_kind=str(report._meta.verbose_name),
        known_at=local_day(leak.known_at),
        improper_purpose=leak.improper_purpose,
        preliminary_due=leak.preliminary_due,
        final_due=leak.final_due,
        preliminary_reported_on=leak.preliminary_reported_on,
        final_reported_on=leak.final_reported_on,
        persons_notified_on=leak.persons_notified_on,
        persons_notified_how=leak.persons_notified_how,
        group_count=leak.affected_groups.count(),
        items={
            "overview": leak.overview,
            "data_items": leak.data_items,
            "person_count": "" if leak.person_count is None else str(leak.person_count),
            **{key: getattr(leak, key) for key, _ in ITEMS[3:]},
        },
    )


def blank() -> dict:
    return context()


def sample() -> dict:
    return context(**samples.LEAK)


TARGETS = (
    Target(
        model="devices.PrivacyLeak",
        visible_to=leaks_visible_to,
        context=for_leak,
        label=lambda leak: f"No.{leak.pk}",
    ),
)
