"""Reminders the network's rules call for, sent by one periodic job (beat, groups.tasks):
groups' own below, the facilities' ones from facilities.jobs.

- supporter reviews coming due (留意事項 1): the group manager, before the deadline — the
  groups app's own sweep (groups.services.reminders_send) takes over once a review is overdue
  (the manager again, then the facility's MCS administrator) and for groups waiting too long
  for the archive (留意事項 2);
- a group invitation about to expire (留意事項 4): the invitee, who should decide before it
  lapses; a facility's invitation (第6条(4)): whoever sent it;
- staff without a pledge or this 年度's education (第7条), dormant accounts (第6条(3)): see
  facilities.jobs.

Every selection is one set-based query; every reminder carries a dedupe key, and
send_notifications filters out the keys already sent, a query per batch, before writing the
rest in one statement per batch, so a second run sends nothing and costs little (the bench's
100,000 reminders must run in seconds). Each run leaves an audit event with what it sent.
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from facilities import jobs as facility_jobs
from facilities.jobs import INVITATION_NOTICE
from mcnet.audit import AuditAction, audit_record
from mcnet.models import NetworkSettings
from mcnet.notifications import Message, link_by_pk, send_notifications

from .models import Group, Membership
from .selectors import ReviewClock, reviewed_groups


def _send(reminders: list[Message]) -> int:
    """Send the reminders not sent before (send_notifications filters out the keys sent)."""
    return sum(send_notifications(reminders).values())


# --- 留意事項 1: supporter reviews coming due ---------------------------------------------------
def reviews_due_soon(*, now) -> list[Message]:
    # Announced while the group's review counts as "due" (ReviewClock, 留意事項 1).
    clock = ReviewClock.at(now)
    groups = reviewed_groups().filter(clock.state_q("due"), manager__is_active=True)
    # Translated once, not once per group.
    title = _("「%(group)s」のサポーター精査の期限が近づいています（%(due)s）")
    body = _(
        "参加しているサポーターが今も適切かどうか、期限までに精査してください"
        "（留意事項1）。担当から外れた人・退職した人は解除します。"
    )
    reason = _("あなたがこのグループの管理者であるため")
    review_url = link_by_pk("groups:review")
    reminders = []
    # Fetched whole, unordered (see groups.services.reminders_send).
    rows = groups.order_by().values_list("pk", "name", "review_base", "manager_id")
    for pk, name, base, manager_id in rows:
        due = timezone.localdate(clock.due_at(base))
        reminders.append(
            Message(
                recipient_id=manager_id,
                kind="reminders.review_due",
                title=title % {"group": name, "due": f"{due:%Y/%m/%d}"},
                body=body,
                url=review_url(pk),
                reason=reason,
                dedupe_key=f"reminders.review_due:{pk}:{due:%Y%m%d}",
            )
        )
    return reminders


# --- invitations about to lapse ----------------------------------------------------------------
def invitations_expiring(*, now) -> list[Message]:
    reminders = facility_jobs.invitations_expiring(now=now)
    # A group invitation (留意事項 4): the invitee decides whether they belong, before it lapses.
    expiry = dt.timedelta(days=NetworkSettings.load().invitation_expiry_days)
    pending = Membership.objects.filter(
        state=Membership.State.INVITED,
        user__is_active=True,
        invited_at__gt=now - expiry,
        invited_at__lte=now - expiry + INVITATION_NOTICE,
        group__state=Group.State.ACTIVE,
    ).select_related("user", "group")
    for membership in pending.iterator(chunk_size=2000):
        lapses = timezone.localtime(membership.invited_at + expiry)
        reminders.append(
            Message(
                recipient_id=membership.user_id,
                kind="reminders.group_invitation_expiring",
                title=_("「%(group)s」への招待の期限が近づいています")
                % {"group": membership.group.name},
                body=_(
                    "参加することがふさわしいかを判断して、%(lapses)s までに参加または辞退して"
                    "ください（留意事項4）。期限を過ぎると招待は取り消されます。"
                )
                % {"lapses": f"{lapses:%Y/%m/%d %H:%M}"},
                url=reverse("groups:invitation", args=[membership.group_id]),
                reason=_("あなたがこのグループに招待されているため"),
                dedupe_key=f"reminders.group_invitation_expiring:{membership.pk}",
            )
        )
    return reminders


def send_reminders(*, now=None) -> dict:
    """Every reminder due now; safe to run any number of times (see the module docstring)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = {
        "review_due": _send(reviews_due_soon(now=now)),
        "staff_pledge_education": _send(
            facility_jobs.staff_without_pledge_or_education(today=today)
        ),
        "invitations_expiring": _send(invitations_expiring(now=now)),
        "dormant_accounts": _send(facility_jobs.dormant_accounts(now=now, today=today)),
    }
    audit_record(
        actor=None, action=AuditAction.REMINDERS_RUN, object_type="reminders", changes=sent
    )
    return sent
