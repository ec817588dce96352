"""Reminders of the facilities' rules, sent by groups.jobs.send_reminders (beat):

- staff without a confidentiality pledge or without this 年度's education (第7条): the facility
  manager, who signs pledges and runs education;
- a facility's invitation about to expire (第6条(4)): whoever sent it;
- accounts with no login for the network's dormant period: the facility's MCS administrator,
  to review whether they should keep their ID (第6条(3)).

Each selection is one set-based query and each reminder carries a dedupe key, so a second run
sends nothing (see groups.jobs).
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mcnet.models import NetworkSettings
from mcnet.notifications import Message, link_by_pk
from mcnet.wareki import era_of, era_year

from .models import (
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    Invitation,
    StaffPledge,
    User,
    fiscal_year_start,
)
from .selectors import role_holder_ids

# How long before it lapses an invitation is recalled.
INVITATION_NOTICE = dt.timedelta(days=3)
# How many names a list in a reminder shows (the page linked shows them all).
LIST_LIMIT = 30
Role = FacilityRole.Role


def _names(labels: list[str]) -> str:
    shown = "、".join(labels[:LIST_LIMIT])
    more = len(labels) - LIST_LIMIT
    return shown + (_(" ほか %(n)d 名") % {"n": more} if more > 0 else "")


# --- 第7条: pledges and this 年度's education ---------------------------------------------------
def staff_without_pledge_or_education(*, today: dt.date) -> list[Message]:
    year_start = fiscal_year_start(today)
    staff = FacilityMembership.objects.filter(
        is_active=True,
        user__is_active=True,
        facility__state=Facility.State.ACTIVE,
    )
    without_pledge = staff.exclude(
        Exists(
            StaffPledge.objects.filter(user_id=OuterRef("user_id"), facility=OuterRef("facility"))
        )
    )
    without_education = staff.exclude(
        Exists(
            EducationSession.attendees.through.objects.filter(
                user_id=OuterRef("user_id"),
                educationsession__facility=OuterRef("facility"),
                educationsession__held_on__gte=year_start,
                educationsession__held_on__lte=today,
            )
        )
    )
    gaps = defaultdict(lambda: {"pledge": 0, "education": 0})
    for name, queryset in (("pledge", without_pledge), ("education", without_education)):
        for row in queryset.values("facility_id").annotate(n=Count("id")).order_by():
            gaps[row["facility_id"]][name] = row["n"]
    names = dict(Facility.objects.filter(pk__in=list(gaps)).values_list("pk", "name"))
    managers = role_holder_ids(list(gaps), Role.FACILITY_MANAGER)
    era, year = era_of(year_start)
    fiscal_year = f"{era}{era_year(year)}"  # 令和8年度
    month = f"{today:%Y%m}"
    # Translated once, not once per facility.
    without_pledge_line = _("誓約書が未記録の職員: %(n)d 名")
    without_education_line = _("%(year)s年度の教育を受けていない職員: %(n)d 名")
    title = _("%(facility)s: 誓約書・教育が済んでいない職員がいます")
    rule = _(
        "事業所管理者は従事者と守秘義務の誓約書を交わし、定期的に教育を行います（運用規程 第7条）。"
    )
    reason = _("あなたがこの事業所の事業所管理者であるため")
    staff_url = link_by_pk("facilities:staff")
    reminders = []
    for facility_id, counts in gaps.items():
        parts = []
        if counts["pledge"]:
            parts.append(without_pledge_line % {"n": counts["pledge"]})
        if counts["education"]:
            parts.append(without_education_line % {"year": fiscal_year, "n": counts["education"]})
        for manager_id in managers.get(facility_id, []):
            reminders.append(
                Message(
                    recipient_id=manager_id,
                    kind="reminders.staff_pledge_education",
                    title=title % {"facility": names[facility_id]},
                    body="\n".join(parts) + "\n" + rule,
                    url=staff_url(facility_id),
                    reason=reason,
                    dedupe_key=f"reminders.staff_pledge_education:{facility_id}:{month}",
                )
            )
    return reminders


# --- invitations about to lapse ----------------------------------------------------------------
def invitations_expiring(*, now) -> list[Message]:
    reminders = []
    # A facility's invitation to a new user (第6条(4)): whoever sent it may send it again.
    invitations = Invitation.objects.filter(
        state=Invitation.State.PENDING, expires_at__gt=now, expires_at__lte=now + INVITATION_NOTICE
    ).select_related("facility", "created_by")
    admins = role_holder_ids({i.facility_id for i in invitations}, Role.MCS_ADMIN)
    for invitation in invitations:
        senders = (
            [invitation.created_by_id]
            if invitation.created_by and invitation.created_by.is_active
            else admins.get(invitation.facility_id, [])
        )
        for sender_id in senders:
            reminders.append(
                Message(
                    recipient_id=sender_id,
                    kind="reminders.invitation_expiring",
                    title=_("%(email)s さんへの招待がまもなく期限切れになります")
                    % {"email": invitation.email},
                    body=_(
                        "%(facility)s への招待がまだ受け付けられていません"
                        "（期限 %(expires)s）。必要なら招待を再送してください。"
                    )
                    % {
                        "facility": invitation.facility.name,
                        "expires": f"{timezone.localtime(invitation.expires_at):%Y/%m/%d %H:%M}",
                    },
                    url=reverse("facilities:invitations", args=[invitation.facility_id]),
                    reason=_("あなたがこの招待を送った（またはこの事業所のMCS管理者である）ため"),
                    dedupe_key=(
                        f"reminders.invitation_expiring:{invitation.pk}:"
                        f"{invitation.expires_at:%Y%m%d%H%M}"
                    ),
                )
            )
    return reminders


# --- dormant accounts (第6条(3): the MCS administrator manages the IDs) -----------------------------
def dormant_accounts(*, now, today: dt.date) -> list[Message]:
    cutoff = now - dt.timedelta(days=NetworkSettings.load().dormant_days)
    dormant = (
        FacilityMembership.objects.filter(
            is_active=True,
            user__is_active=True,
            user__state=User.State.ACTIVE,
            facility__state=Facility.State.ACTIVE,
        )
        .filter(
            Q(user__last_login__lt=cutoff)
            | Q(user__last_login__isnull=True, user__date_joined__lt=cutoff)
        )
        .order_by("facility_id", "user__kana", "user__email")
        .values_list("facility_id", "user__name", "user__email")
    )
    by_facility = defaultdict(list)
    for facility_id, name, email in dormant:
        by_facility[facility_id].append(name or email)
    names = dict(Facility.objects.filter(pk__in=list(by_facility)).values_list("pk", "name"))
    admins = role_holder_ids(list(by_facility), Role.MCS_ADMIN)
    days = NetworkSettings.load().dormant_days
    month = f"{today:%Y%m}"
    # Translated once, not once per facility.
    title = _("%(facility)s: %(days)d 日以上ログインのない職員が %(n)d 名います")
    advice = _(
        "退職した人・担当を外れた人のIDは利用中止にしてください（第6条(3)(4)、"
        "留意事項1）。引き続き使う人はそのままで構いません。"
    )
    reason = _("あなたがこの事業所のMCS管理者であるため")
    staff_url = link_by_pk("facilities:staff")
    reminders = []
    for facility_id, users in by_facility.items():
        for admin_id in admins.get(facility_id, []):
            reminders.append(
                Message(
                    recipient_id=admin_id,
                    kind="reminders.dormant_accounts",
                    title=title % {"facility": names[facility_id], "days": days, "n": len(users)},
                    body=_names(users) + "\n" + advice,
                    url=staff_url(facility_id),
                    reason=reason,
                    dedupe_key=f"reminders.dormant_accounts:{facility_id}:{month}",
                )
            )
    return reminders
