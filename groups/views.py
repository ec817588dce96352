"""Pages of the groups app: thin — a selector decides who sees what, a service does each write.

Objects of other people's groups answer 404 (existence does not leak); POST-only actions refuse
GET with 405.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consents import permissions as consent_permissions
from consents import selectors as consent_selectors
from facilities.models import User
from facilities.selectors import directory_users, facility_for
from mcnet.actions import detail_or_list, form_action, post_action
from mcnet.confirm import confirm_page
from mcnet.forms import posted
from mcnet.fragments import render_fragment
from mcnet.models import NetworkSettings
from mcnet.notifications import mail_body_of
from mcnet.pagecache import cached_page, holds_until, render_cached
from mcnet.pagination import page_number, uncounted_page
from mcnet.permissions import center_staff_required

from . import permissions, selectors, services
from .forms import (
    AnnouncementMailForm,
    ArchiveForm,
    ArchiveSearchForm,
    CenterFilterForm,
    DirectorySearchForm,
    FreeGroupForm,
    GroupAttestationForm,
    HandoverForm,
    InviteForm,
    InviteManyForm,
    PatientGroupForm,
    PostDeletionForm,
    ReasonForm,
    ReportEndForm,
    ResolutionForm,
    ReviewForm,
    StaffAttestationForm,
)
from .models import Group, Membership, PostDeletion

# --- lists -------------------------------------------------------------------------------------


GROUPS_PER_PAGE = 100


@login_required
@require_GET
@cached_page
def group_list(request):
    """The user's groups: working (accepted, not archived, with invitations and the review
    status, 留意事項 1) or archived (the archive's own rule), searched by name or number,
    sorted by a whitelisted order and paged without a count."""
    query = request.GET.get("q", "")[:100].strip()
    state = request.GET.get("state", selectors.WORKING)
    if state not in (selectors.WORKING, selectors.ARCHIVED):
        state = selectors.WORKING
    sort = request.GET.get("sort", "name")
    if sort not in selectors.GROUP_SORTS:
        sort = "name"
    number = page_number(request.GET.get("page"))
    context = {
        "query": query,
        "state": state,
        "sort": sort,
        "pager_query": urlencode({"state": state, "q": query, "sort": sort}),
        "can_create_patient_group": consent_selectors.registering_facilities_of(
            request.user
        ).exists(),
        "awaiting_archive_count": selectors.groups_awaiting_archive_for(request.user).count(),
    }
    if state == selectors.ARCHIVED:
        page = uncounted_page(
            selectors.archived_groups_for(request.user, query=query, sort=sort),
            number,
            GROUPS_PER_PAGE,
        )
        return render(request, "groups/list.html", {**context, "page": page})
    page = selectors.working_groups_page(
        request.user, number=number, per_page=GROUPS_PER_PAGE, query=query, sort=sort
    )
    changes_at = selectors.review_changes_at(group.review for group in page.object_list)
    if changes_at is not None:
        holds_until(request, changes_at)
    # The all-users group heads the first page of the unsearched list (everyone is in it).
    all_users_group = (
        selectors.all_users_group_for(request.user) if number == 1 and not query else None
    )
    rows = {"groups": page.object_list, "all_users_group": all_users_group, "searched": bool(query)}
    return render(
        request,
        "groups/list.html",
        {
            **context,
            "page": page,
            "working_rows": render_fragment(
                "groups/_working_rows.html",
                rows,
                shows=(
                    bool(query),
                    selectors.working_list_shows(page.object_list, all_users_group),
                ),
            ),
            "invitations": list(selectors.invitations_for(request.user)),
        },
    )


@login_required
@require_GET
def archive(request):
    """アーカイブ機能: archived groups, searchable by those entitled (留意事項 2)."""
    form = ArchiveSearchForm(request.GET or None)
    query, reason = "", ""
    if form.is_valid():
        query, reason = form.cleaned_data["q"], form.cleaned_data["reason"]
    groups = list(selectors.archived_groups_for(request.user, query=query, reason=reason)[:200])
    return render(
        request,
        "groups/archive.html",
        {"form": form, "groups": groups, "former": selectors.former_groups_of(request.user)},
    )


@login_required
@require_GET
def archive_queue(request):
    """For an MCS administrator: groups reported ended, waiting to be archived."""
    groups = list(selectors.groups_awaiting_archive_for(request.user))
    return render(request, "groups/archive_queue.html", {"groups": groups})


@center_staff_required
@require_GET
def center_overview(request):
    """The center's view of every group: names, kinds, states, counts, review status — no
    patient detail is loaded at all (別紙5 (2))."""
    params = request.GET.copy()
    params.pop("page", None)
    form = CenterFilterForm(params or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.center_overview_page(
        number=page_number(request.GET.get("page")),
        query=filters.get("q", ""),
        kind=filters.get("kind", ""),
        state=filters.get("state", ""),
    )
    return render(
        request,
        "groups/center.html",
        {
            "form": form,
            "page": page,
            "query": params.urlencode(),
            "active_user_count": selectors.active_user_count(),
        },
    )


# --- creating ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create_patient_group(request):
    if not consent_selectors.registering_facilities_of(request.user).exists():
        raise PermissionDenied
    patients = (
        consent_selectors.patients_managed_by(request.user)
        .filter(
            erased_at__isnull=True,
            facility__in=consent_selectors.registering_facilities_of(request.user),
        )
        .order_by("kana")
    )
    initial = {}
    if request.GET.get("patient", "").isdigit():
        initial["patient"] = int(request.GET["patient"])
    form = PatientGroupForm(posted(request), patients=patients, initial=initial)
    done = form_action(
        request,
        form,
        lambda data: services.group_create_for_patient(actor=request.user, patient=data["patient"]),
        success=lambda group: _("「%(name)s」を作成しました。") % {"name": group.name},
        then=lambda group: redirect("groups:detail", pk=group.pk),
        refusal_field="patient",
    )
    return done or render(request, "groups/create_patient_group.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def create_free_group(request):
    """留意事項 1 (2): anyone may create a free group."""
    form = FreeGroupForm(posted(request))
    done = form_action(
        request,
        form,
        lambda data: services.group_create_free(actor=request.user, **data),
        success=lambda group: _("「%(name)s」を作成しました。") % {"name": group.name},
        then=lambda group: redirect("groups:detail", pk=group.pk),
        refusal_field="name",
    )
    return done or render(request, "groups/create_free_group.html", {"form": form})


# --- one group ---------------------------------------------------------------------------------


@login_required
@require_GET
def group_detail(request, pk: int):
    """Members only: the patient's details and the member list with photos. Opening it is
    recorded in the access log when it shows a patient (national guideline). Once care has
    ended, only its custodians open it, after stating why (consents.permissions)."""
    try:
        # Decided and recorded on every request; only the page itself may come from the cache.
        group = services.group_open(actor=request.user, pk=pk, via="groups:detail")
    except Http404:
        patient_id = selectors.closed_group_patient_id(pk)
        if patient_id is None or not consent_permissions.may_open_closed_record(
            request.user, patient_id
        ):
            raise
        url = reverse("consents:record_open", args=[patient_id])
        return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
    if group.kind == Group.Kind.ALL_USERS:
        return redirect("groups:announcements")
    # The page itself, when not cached, from the group with all it shows (the same decision).
    return render_cached(
        request, lambda: _group_page(request, selectors.group_for_member(request.user, pk))
    )


def _group_page(request, group: Group):
    is_manager = permissions.is_manager_of(request.user, group)
    members = list(selectors.members_of(group))
    context = {
        "group": group,
        "is_manager": is_manager,
        "members": members,
        "my_membership": selectors.membership_of(request.user, group, members=members),
        "review": selectors.review_status(group),
        "can_archive": permissions.can_archive(request.user, group),
        "undo_until": selectors.end_report_undoable_until(group) if is_manager else None,
    }
    for moment in (
        selectors.review_changes_at([context["review"]]),
        context["undo_until"],
    ):
        if moment is not None:
            holds_until(request, moment)
    if group.patient_id:
        context["patient"] = group.patient
        context["consent"] = consent_selectors.active_consent_of(group.patient)
    if is_manager:
        context["invitations"] = list(selectors.pending_invitations_of(group))
        context["reviews"] = list(selectors.reviews_of(group))
        # 別紙5 (2): the patient is told who is in the team, again when it changes.
        if group.is_open:
            context["team_notice"] = selectors.team_notice_status(group)
    return render(request, "groups/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def invite(request, pk: int):
    """第8条(2): the manager invites from the directory, inside or outside the facility."""
    group = selectors.group_for_manager(request.user, pk)
    if not group.is_open:
        raise Http404
    covered = selectors.covered_facilities_of(group)
    query = request.GET.copy()
    query.pop("review", None)
    search = DirectorySearchForm(
        {k: query.get(k, "") for k in ("q", "facility", "facility_name", "occupation")}
        if query
        else None,
        facilities=covered,
    )
    chosen_ids = [int(v) for v in request.GET.getlist("chosen") if v.isdigit()][:200]
    chosen = (
        list(directory_users(viewer=request.user, ids=chosen_ids, limit=200)) if chosen_ids else []
    )
    if request.method == "POST" and "users" in request.POST:
        return _invite_many(request, group, chosen, query)
    form = InviteForm(posted(request))

    def invited(_result):
        invitee = form.cleaned_data["user"]
        return _("%(name)s さんを招待しました。") % {"name": invitee.name or invitee.email}

    done = form_action(
        request,
        form,
        lambda data: services.membership_invite(actor=request.user, group=group, user=data["user"]),
        success=invited,
        then=redirect("groups:detail", pk=group.pk),
    )
    if done:
        return done
    if request.GET.get("review") and chosen:
        return _invite_review(request, group, chosen, query, InviteManyForm())
    results = []
    if search.is_valid() and any(search.cleaned_data.values()):
        results = list(
            directory_users(
                viewer=request.user,
                query=search.cleaned_data["q"],
                facility=search.cleaned_data.get("facility"),
                facility_name=search.cleaned_data.get("facility_name", ""),
                occupation=search.cleaned_data["occupation"],
                limit=50,
            )
        )
    chosen_pks = {person.pk for person in chosen}
    return render(
        request,
        "groups/invite.html",
        {
            "group": group,
            "search": search,
            "form": form,
            "chosen": chosen,
            "results": [person for person in results if person.pk not in chosen_pks],
            "searched": search.is_bound,
            "covered_facilities": covered,
        },
    )


def _invite_review(request, group, chosen, query, form, status=200):
    """The summary before sending: who will be invited, from which facility."""
    return render(
        request,
        "groups/invite_review.html",
        {
            "group": group,
            "chosen": chosen,
            "form": form,
            "back_query": query.urlencode(),
            "max_at_once": services.MAX_INVITES_AT_ONCE,
        },
        status=status,
    )


def _invite_many(request, group, chosen, query):
    form = InviteManyForm(request.POST)

    def invite(data):
        users = list(data["users"].order_by("search_kana", "pk"))
        services.memberships_invite(actor=request.user, group=group, users=users)
        return users

    def invited(users):
        names = "、".join(user.name or user.email for user in users)
        return ngettext(
            "%(names)s さんを招待しました。",
            "%(names)s さん（%(n)s 人）を招待しました。",
            len(users),
        ) % {"names": names, "n": len(users)}

    done = form_action(
        request, form, invite, success=invited, then=redirect("groups:detail", pk=group.pk)
    )
    if done:
        return done
    chosen = chosen or list(
        directory_users(
            viewer=request.user,
            ids=[int(v) for v in request.POST.getlist("users") if v.isdigit()][:200],
            limit=200,
        )
    )
    return _invite_review(request, group, chosen, query, form)


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request, pk: int, membership_pk: int):
    """The manager removes a member or cancels an invitation, with a reason (第8条(2))."""
    group = selectors.group_for_manager(request.user, pk)
    membership = selectors.membership_in_group(group, membership_pk)
    form = ReasonForm(posted(request))
    done = form_action(
        request,
        form,
        lambda data: services.membership_remove(
            actor=request.user, membership=membership, reason=data["reason"]
        ),
        success=_("解除しました。"),
        then=redirect("groups:detail", pk=group.pk),
        refusal_field="reason",
    )
    return done or render(
        request,
        "groups/member_remove.html",
        {"group": group, "membership": membership, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave(request, pk: int):
    """留意事項 4: a member no longer in charge leaves at once."""
    group = selectors.group_for_member(request.user, pk)
    if group.kind == Group.Kind.ALL_USERS:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            services.membership_leave(actor=request.user, group=group)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("「%(name)s」から退出しました。") % {"name": group.name})
            return redirect("groups:list")
    return render(request, "groups/leave.html", {"group": group, "error": error})


@login_required
@require_http_methods(["GET", "POST"])
def handover(request, pk: int):
    group = selectors.group_for_handover(request.user, pk)
    form = HandoverForm(posted(request), candidates=selectors.handover_candidates(group))
    done = form_action(
        request,
        form,
        lambda data: services.group_handover(actor=request.user, group=group, **data),
        success=_("管理者を引き継ぎました。"),
        then=lambda _result: detail_or_list(
            selectors.groups_visible_to(request.user), group.pk, "groups:detail", "groups:list"
        ),
        refusal_field="new_manager",
    )
    return done or render(request, "groups/handover.html", {"group": group, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def review(request, pk: int):
    """留意事項 1: the review screen — each supporter's facility, occupation, state and last
    activity — and the record of the review."""
    group = selectors.group_for_manager(request.user, pk)
    if group.kind != Group.Kind.PATIENT or not group.is_open:
        raise Http404
    candidates = selectors.members_for_review(group)
    form = ReviewForm(posted(request), memberships=candidates)
    done = form_action(
        request,
        form,
        lambda data: services.supporter_review_record(actor=request.user, group=group, **data),
        success=_("精査を記録しました。"),
        then=redirect("groups:detail", pk=group.pk),
    )
    return done or render(
        request,
        "groups/review.html",
        {
            "group": group,
            "form": form,
            "members": list(selectors.members_of(group)),
            "review": selectors.review_status(group),
            "reviews": list(selectors.reviews_of(group)),
            "post_deletions": list(selectors.post_deletions_of(group)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_deletion(request, pk: int):
    """第8条(1): the manager records a post deleted in MCS (date, category, a short note)."""
    group = selectors.group_for_manager(request.user, pk)
    if group.kind != Group.Kind.PATIENT:
        raise Http404
    form = PostDeletionForm(posted(request))
    done = form_action(
        request,
        form,
        lambda data: services.post_deletion_record(actor=request.user, group=group, **data),
        success=_("MCSの投稿の削除を記録しました。"),
        then=lambda _result: redirect(
            "groups:review" if group.is_open else "groups:detail", pk=group.pk
        ),
    )
    return done or render(
        request,
        "groups/post_deletion.html",
        {
            "group": group,
            "form": form,
            "post_deletions": list(selectors.post_deletions_of(group)),
        },
    )


@center_staff_required
@require_GET
def center_monitoring(request):
    """第8条(1): what the managers remove from MCS, counted per facility, and whether the
    reviews confirm the timeline was checked. Counts and neutral labels only (別紙5 (2))."""
    return render(
        request,
        "groups/center_monitoring.html",
        {
            "rows": selectors.monitoring_by_facility(),
            "recent": selectors.recent_post_deletions(),
            "categories": PostDeletion.Category.choices,
            "days": selectors.MONITORING_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_end(request, pk: int):
    """留意事項 3: the manager reports that the patient stopped using the network."""
    group = selectors.group_for_manager(request.user, pk)
    if group.kind != Group.Kind.PATIENT or not group.is_open:
        raise Http404
    form = ReportEndForm(posted(request))
    done = form_action(
        request,
        form,
        lambda data: services.group_report_end(actor=request.user, group=group, **data),
        success=_(
            "利用終了を報告しました。事業所のMCS管理者に通知しました（留意事項3）。"
            "誤って報告したときは、1日以内ならグループのページで取り消せます。"
        ),
        then=redirect("groups:detail", pk=group.pk),
        refusal_field="reason",
    )
    if done:
        return done
    consent = consent_selectors.active_consent_of(group.patient)
    return render(
        request, "groups/report_end.html", {"group": group, "form": form, "consent": consent}
    )


@login_required
@require_POST
def report_end_undo(request, pk: int):
    """留意事項 3: a report sent by mistake is withdrawn within a day (before archiving)."""
    group = selectors.group_for_manager(request.user, pk)
    return post_action(
        request,
        lambda: services.group_report_end_undo(actor=request.user, group=group),
        success=_("利用終了の報告を取り消しました。グループは引き続き利用中です。"),
        then=redirect("groups:detail", pk=group.pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def archive_group(request, pk: int):
    """留意事項 2: the owning facility's MCS administrator archives. The page shows what
    archiving needs (name, reason, dates) and no patient detail."""
    group = selectors.group_for_archiver(request.user, pk)
    form = ArchiveForm(posted(request), group=group)
    done = form_action(
        request,
        form,
        lambda data: services.group_archive(actor=request.user, group=group, **data),
        success=lambda _result: _("「%(name)s」をアーカイブしました。") % {"name": group.name},
        then=redirect("groups:archive"),
    )
    return done or render(request, "groups/archive_group.html", {"group": group, "form": form})


# --- invitations (留意事項 4) --------------------------------------------------------------------


@login_required
@require_GET
def invitation(request, pk: int):
    """The invitee sees the group's name (the patient's name) and who invites — nothing else."""
    membership = selectors.invitation_for_invitee(request.user, pk)
    return render(
        request,
        "groups/invitation.html",
        {"invitation": membership, "expired": selectors.invitation_expired(membership)},
    )


@login_required
@require_POST
def invitation_accept(request, pk: int):
    membership = selectors.invitation_for_invitee(request.user, pk)
    try:
        services.group_invitation_accept(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("groups:invitation", pk=pk)
    messages.success(request, _("招待を受理しました。"))
    return redirect("groups:detail", pk=membership.group_id)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_decline(request, pk: int):
    membership = selectors.invitation_for_invitee(request.user, pk)
    if request.method == "GET":
        return confirm_page(
            request,
            title=_("招待の辞退"),
            lead=_("「%(group)s」への招待を辞退しますか。") % {"group": membership.group.name},
            consequences=[
                _("このグループには参加せず、患者の情報は表示されません。"),
                _(
                    "招待はなくなります。あとで参加するには、グループ管理者に再度の招待を依頼します。"
                ),
            ],
            button=_("辞退する"),
            back_url=reverse("groups:invitation", args=[pk]),
        )
    services.group_invitation_decline(actor=request.user, membership=membership)
    messages.success(request, _("招待を辞退しました。"))
    return redirect("groups:list")


# --- an MCS administrator and their own staff (留意事項 1) -------------------------------------


@login_required
@require_GET
def staff_memberships(request, user_pk: int):
    """A narrow page: which groups one's own staff member is in — by number, kind and manager
    only (a patient group's name is the patient's) — to remove them."""
    staff = selectors.staff_member_for_admin(request.user, user_pk)
    return render(
        request,
        "groups/staff_memberships.html",
        {
            "staff": staff,
            "memberships": list(selectors.open_memberships_of(staff)),
            "form": ReasonForm(),
        },
    )


@login_required
@require_POST
def staff_membership_remove(request, user_pk: int, membership_pk: int):
    staff = selectors.staff_member_for_admin(request.user, user_pk)
    membership = selectors.open_memberships_of(staff).filter(pk=membership_pk).first()
    if membership is None:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("解除の理由を入力してください。"))
        return redirect("groups:staff_memberships", user_pk=staff.pk)
    return post_action(
        request,
        lambda: services.membership_remove(
            actor=request.user, membership=membership, reason=form.cleaned_data["reason"]
        ),
        success=_("グループから解除しました。"),
        then=redirect("groups:staff_memberships", user_pk=staff.pk),
    )


@login_required
@require_POST
def staff_memberships_end(request, user_pk: int):
    """All at once, for someone who left or is no longer in charge anywhere (留意事項 1)."""
    staff = selectors.staff_member_for_admin(request.user, user_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("解除の理由を入力してください。"))
        return redirect("groups:staff_memberships", user_pk=staff.pk)
    count = services.memberships_end_for_user(
        user=staff, actor=request.user, reason=form.cleaned_data["reason"]
    )
    messages.success(request, _("%(count)d 件のグループから解除しました。") % {"count": count})
    return redirect("groups:staff_memberships", user_pk=staff.pk)


# --- announcements (the all-users group) -------------------------------------------------------


@login_required
@require_GET
def announcement_list(request):
    return render(
        request,
        "groups/announcements.html",
        {
            "announcements": list(selectors.announcements_for(request.user)[:100]),
            "group": selectors.all_users_group_for(request.user),
            "active_user_count": selectors.active_user_count(),
        },
    )


# --- what MCS holds, attested (MCS has no API and no export of its members) ------------------


@login_required
@require_http_methods(["GET", "POST"])
def staff_attestation(request, pk: int):
    """The facility's MCS administrator compares the staff list with MCS, staff by staff."""
    facility = facility_for(request.user, pk, "manage_staff")
    rows = selectors.staff_to_attest(facility)
    form = StaffAttestationForm(posted(request), rows=rows)
    done = form_action(
        request,
        form,
        lambda _data: services.staff_attestation_record(
            actor=request.user, facility=facility, statuses=form.statuses()
        ),
        success=lambda attestation: (
            _("照合を記録しました。相違: %(n)d 件（ホームの作業一覧に表示します）。")
            % {"n": attestation.lines.filter(discrepancy=True).count()}
        ),
        then=redirect("groups:staff_attestation", pk=facility.pk),
    )
    if done:
        return done
    last, base = selectors.staff_attestation_base(facility)
    return render(
        request,
        "groups/staff_attestation.html",
        {
            "facility": facility,
            "form": form,
            "last": last,
            "due_at": base + selectors.attestation_interval(),
            "discrepancies": list(selectors.open_staff_discrepancies(facility)),
            "resolution_form": ResolutionForm(),
        },
    )


@login_required
@require_POST
def staff_attestation_resolve(request, pk: int, line_pk: int):
    facility = facility_for(request.user, pk, "manage_staff")
    line = selectors.staff_discrepancy_of(facility, line_pk)
    form = ResolutionForm(request.POST)

    def resolve():
        if not form.is_valid():
            raise ValidationError(form.errors["resolution"])
        services.staff_discrepancy_resolve(
            actor=request.user, line=line, resolution=form.cleaned_data["resolution"]
        )

    return post_action(
        request,
        resolve,
        success=_("相違を解消済みにしました。"),
        then=redirect("groups:staff_attestation", pk=facility.pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def attestation(request, pk: int):
    """The group's manager compares the MCS group's members with the portal's."""
    group = selectors.group_for_manager(request.user, pk)
    if group.kind != Group.Kind.PATIENT or not group.is_open:
        raise Http404
    members = User.objects.filter(
        group_memberships__group=group, group_memberships__state=Membership.State.ACCEPTED
    ).order_by("kana", "email")
    form = GroupAttestationForm(posted(request), members=members)
    done = form_action(
        request,
        form,
        lambda data: services.group_attestation_record(
            actor=request.user,
            group=group,
            present_user_ids=[u.pk for u in data["present"]],
            extra_in_mcs=data["extra_in_mcs"],
        ),
        success=_("メンバーの照合を記録しました。"),
        then=redirect("groups:attestation", pk=group.pk),
    )
    if done:
        return done
    last = group.attestations.order_by("-attested_at").first()
    base = last.attested_at if last else group.created_at
    return render(
        request,
        "groups/attestation.html",
        {
            "group": group,
            "form": form,
            "last": last,
            "due_at": base + selectors.attestation_interval(),
            "discrepancies": list(selectors.open_group_discrepancies(group)),
            "resolution_form": ResolutionForm(),
        },
    )


@login_required
@require_POST
def attestation_resolve(request, pk: int, attestation_pk: int):
    group = selectors.group_for_manager(request.user, pk)
    found = selectors.group_discrepancy_of(group, attestation_pk)
    form = ResolutionForm(request.POST)

    def resolve():
        if not form.is_valid():
            raise ValidationError(form.errors["resolution"])
        services.group_discrepancy_resolve(
            actor=request.user, attestation=found, resolution=form.cleaned_data["resolution"]
        )

    return post_action(
        request,
        resolve,
        success=_("相違を解消済みにしました。"),
        then=redirect("groups:attestation", pk=group.pk),
    )


@center_staff_required
@require_GET
def center_attestations(request):
    """Facilities whose attestation is overdue and the open discrepancies, by facility."""
    return render(
        request,
        "groups/center_attestations.html",
        {**selectors.attestations_for_center(), "interval": selectors.attestation_interval()},
    )


@center_staff_required
@require_http_methods(["GET", "POST"])
def announcement_mail(request, pk: int):
    """利用開始までの流れ 7①: the center previews an announcement's mail, confirms, and it is
    sent once to its audience through the outbox (groups.services.announcement_mail_send)."""
    announcement = selectors.announcement_for_center(pk)
    form = AnnouncementMailForm(posted(request))
    done = form_action(
        request,
        form,
        lambda _data: services.announcement_mail_send(
            actor=request.user, announcement=announcement
        ),
        success=lambda count: (
            _("%(n)d 人にメールを送信します（順に配信されます）。") % {"n": count}
        ),
        then=redirect("groups:announcements"),
    )
    if done:
        return done
    network = NetworkSettings.load()
    return render(
        request,
        "groups/announcement_mail.html",
        {
            "announcement": announcement,
            "form": form,
            "recipient_count": selectors.announcement_recipients(announcement).count(),
            "subject": f"[{network.name}] {announcement.title}",
            "body": mail_body_of(
                url=reverse("groups:announcements"),
                reason="",
                base_url=settings.MCNET_BASE_URL,
                kind="groups.announcement_mail",
                body=announcement.body,
            ),
        },
    )


@login_required
@require_POST
def announcement_read(request, pk: int):
    announcement = selectors.announcement_for(request.user, pk)
    services.announcement_mark_read(user=request.user, announcement=announcement)
    next_url = request.POST.get("next") or ""
    if next_url == reverse("home"):
        return redirect("home")
    return redirect("groups:announcements")
