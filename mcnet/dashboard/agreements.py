"""Who has agreed only to an older version of the rules (第15条): when a new version takes
effect, the center sees the pledges, 別紙2, 別紙3 and consents still on an older one.

Staff pledges are listed by person (the center administers staff); 別紙2 and 別紙3 by
facility; consents only as counts per facility (別紙5 (2): no patient detail for the center).
"""

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from consents.models import Consent
from enrollment.models import Application, RosterRequest
from facilities.models import Facility, StaffPledge
from mcnet.rulebook.models import Document, RuleVersion
from mcnet.rulebook.selectors import version_in_force


@dataclass
class OutdatedAgreements:
    pledge_version: RuleVersion
    besshi2_version: RuleVersion
    rules_version: RuleVersion
    besshi7_version: RuleVersion
    pledges: QuerySet
    applications: QuerySet
    rosters: list
    consent_counts: QuerySet


def _older(field: str, current: RuleVersion) -> Q:
    return Q(**{f"{field}__isnull": True}) | ~Q(**{field: current})


def outdated_agreements(today=None) -> OutdatedAgreements:
    pledge_v = version_in_force(Document.STAFF_PLEDGE, on=today)
    besshi2_v = version_in_force(Document.BESSHI2, on=today)
    rules_v = version_in_force(Document.RULES, on=today)
    besshi7_v = version_in_force(Document.BESSHI7, on=today)
    active = Facility.State.ACTIVE
    # Staff who work at the facility now; a waiver counts too (the manager judged the
    # existing pledge covers that version, not a later one).
    pledges = (
        StaffPledge.objects.filter(
            _older("rule_version", pledge_v),
            facility__state=active,
            user__memberships__facility=F("facility"),
            user__memberships__is_active=True,
        )
        .select_related("user", "facility", "rule_version")
        .order_by("facility__name", "user__kana", "pk")
    )
    applications = (
        Application.objects.filter(
            _older("pledge_rule_version", besshi2_v),
            state=Application.State.ACCEPTED,
            facility__state=active,
        )
        .select_related("facility", "pledge_rule_version")
        .order_by("facility__name")
    )
    # The facility's latest 別紙3: its staff agreed to the 運用規程 of that day.
    latest = {}
    for roster in (
        RosterRequest.objects.filter(facility__state=active)
        .select_related("facility", "rules_version")
        .order_by("facility_id", "-created_at", "-pk")
    ):
        latest.setdefault(roster.facility_id, roster)
    rosters = sorted(
        (r for r in latest.values() if r.rules_version_id != rules_v.pk),
        key=lambda r: r.facility.name,
    )
    consent_counts = (
        Consent.objects.filter(
            _older("rule_version", besshi7_v),
            status=Consent.Status.ACTIVE,
            erased_at__isnull=True,
        )
        .values("patient__facility__name")
        .annotate(n=Count("pk"))
        .order_by("patient__facility__name")
    )
    return OutdatedAgreements(
        pledge_v, besshi2_v, rules_v, besshi7_v, pledges, applications, rosters, consent_counts
    )
