"""The facility's own pages: staff, roles, invitations, pledges and education; the profile and
the directory for everyone. Thin: a selector decides who may see (404 for other facilities),
a service writes, the page shows the result."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mcnet.actions import form_action, post_action
from mcnet.confirm import confirm_page
from mcnet.forms import add_refusal, picked, query_choice, query_text
from mcnet.models import NetworkSettings
from mcnet.pagination import requested_page
from mcnet.picker import PICKER_RESULTS, search_query
from mcnet.rulebook import text as rule_text
from mcnet.uploads import (
    FORM_OVERHEAD_BYTES,
    MAX_PHOTO_BYTES,
    private_file_response,
    request_body_limit,
)

from . import permissions, selectors, services
from .forms import (
    DeactivateForm,
    DirectoryFacilitySearchForm,
    DirectoryUserSearchForm,
    EducationForm,
    FacilityEditForm,
    FacilityRulesForm,
    InvitationAcceptForm,
    InvitationForm,
    PledgeConfirmForm,
    PledgeForm,
    ProfileForm,
    ReasonForm,
    RestrictForm,
    RoleAppointForm,
    facility_choice_label,
)
from .models import FacilityRole, User
from .postal import lookup
from .search import search_key

Role = FacilityRole.Role

# Who may open which page of a facility (guardian codenames on that facility).
STAFF_ADMIN = ("manage_staff",)  # the MCS administrator (第6条(3)(4), 留意事項 2)
EDUCATION = ("manage_education",)  # the facility manager (第7条)
STAFF_PER_PAGE = 100
# Education sessions: the facility manager runs them (第7条); the MCS administrator, who
# oversees the staff's use of MCS (第6条), records them as well.
EDUCATION_SESSIONS = ("manage_education", "manage_staff")
ROLES = ("sign_for_facility", "manage_staff")  # 第5条; the MCS admin appoints group managers
FACILITY_PAGES = ("manage_staff", "manage_education", "sign_for_facility")


def _done(request, message: str, url: str):
    messages.success(request, message)
    return redirect(url)


# --- the facilities a user runs ------------------------------------------------------------------


@login_required
def managed_facilities(request):
    facilities = list(selectors.facilities_managed_by(request.user))
    if len(facilities) == 1:
        return redirect("facilities:detail", pk=facilities[0].pk)
    return render(request, "facilities/mine.html", {"facilities": facilities})


@login_required
def facility_detail(request, pk):
    facility = selectors.facility_for(request.user, pk, *FACILITY_PAGES)
    grants = selectors.grants_on(request.user, facility)
    return render(
        request,
        "facilities/detail.html",
        {
            "facility": facility,
            "grants": grants,
            "gaps": selectors.staff_gaps(facility),
            "state_changes": facility.state_changes.all()[:20],
            "roles": facility.roles.select_related("user").order_by("role", "user__kana"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def facility_edit(request, pk):
    facility = selectors.facility_for(request.user, pk, "manage_staff", "sign_for_facility")
    form = FacilityEditForm(request.POST or None, instance=facility)

    def perform(data):
        # The form wrote its values onto the instance; the service compares with the stored row.
        fields = {name: data[name] for name in form.Meta.fields}
        services.facility_update(actor=request.user, facility=facility, **fields)

    done = form_action(
        request,
        form,
        perform,
        success=_("事業所の情報を保存しました。"),
        then=redirect("facilities:detail", pk),
    )
    return done or render(
        request,
        "facilities/edit.html",
        {"facility": facility, "form": form, "grants": selectors.grants_on(request.user, facility)},
    )


@login_required
@require_GET
def postal_code_lookup(request):
    """JSON for postal_lookup.js: prefecture, city and town of a postal code (404 if unknown)."""
    found = lookup(request.GET.get("code", ""))
    if found is None:
        return JsonResponse({"found": False}, status=404)
    return JsonResponse({"found": True, **found})


# --- roles (第5条, 別紙3 *1) -----------------------------------------------------------------------


def _roles_context(request, facility, form=None, needs_confirmation=False):
    grants = selectors.grants_on(request.user, facility)
    roles = permissions.appointable_roles(grants)
    if form is None:
        form = RoleAppointForm(staff=selectors.active_staff(facility), roles=roles)
    rows = facility.roles.select_related("user", "appointed_by").order_by("role", "user__kana")
    mcs_admins = [r for r in rows if r.role == Role.MCS_ADMIN]
    return {
        "facility": facility,
        "grants": grants,
        "form": form,
        "rows": rows,
        "relievable": roles,
        "mcs_admin_count": len(mcs_admins),
        "needs_confirmation": needs_confirmation,
    }


@login_required
@require_GET
def roles_page(request, pk):
    facility = selectors.facility_for(request.user, pk, *ROLES)
    return render(request, "facilities/roles.html", _roles_context(request, facility))


@login_required
@require_POST
def role_appoint(request, pk):
    facility = selectors.facility_for(request.user, pk, *ROLES)
    roles = permissions.appointable_roles(selectors.grants_on(request.user, facility))
    form = RoleAppointForm(request.POST, staff=selectors.active_staff(facility), roles=roles)
    needs_confirmation = False
    if form.is_valid():
        try:
            services.role_appoint(
                actor=request.user,
                user=form.cleaned_data["user"],
                facility=facility,
                role=form.cleaned_data["role"],
                confirm_second_mcs_admin=form.cleaned_data["confirm_second"],
            )
        except services.SecondMcsAdministrator as exc:
            needs_confirmation = True
            form.add_error("confirm_second", exc)
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            return _done(request, _("役割を任命しました。"), reverse("facilities:roles", args=[pk]))
    context = _roles_context(request, facility, form, needs_confirmation)
    return render(request, "facilities/roles.html", context, status=200)


@login_required
@require_http_methods(["GET", "POST"])
def role_relieve(request, pk, role_id):
    facility = selectors.facility_for(request.user, pk, *ROLES)
    roles = permissions.appointable_roles(selectors.grants_on(request.user, facility))
    row = facility.roles.filter(pk=role_id, role__in=roles).select_related("user").first()
    if row is None:
        raise Http404
    if row.role == Role.FACILITY_MANAGER and row.user_id == request.user.pk:
        others = facility.roles.filter(role=Role.FACILITY_MANAGER).exclude(pk=row.pk).exists()
        if not others:
            messages.error(
                request,
                _(
                    "事業所管理者が一人もいなくなるため、ご自身を解任できません。後任を先に任命してください。"
                ),
            )
            return redirect("facilities:roles", pk=pk)
    if request.method == "GET":
        return _relieve_question(request, facility, row)
    services.role_relieve(actor=request.user, user=row.user, facility=facility, role=row.role)
    return _done(request, _("役割を解任しました。"), reverse("facilities:roles", args=[pk]))


def _relieve_question(request, facility, row):
    """第5条: who loses which powers, said before it happens."""
    name = row.user.name or row.user.email
    consequences = {
        Role.MCS_ADMIN: [
            _("職員の登録・招待、機器の管理、グループのアーカイブができなくなります（第6条）。"),
        ],
        Role.FACILITY_MANAGER: [
            _("事業所を代表する届出や役割の任命ができなくなります（第5条）。"),
        ],
        Role.GROUP_MANAGER: [
            _("新しい患者グループを作れなくなります（第8条）。"),
        ],
    }.get(row.role, [])
    return confirm_page(
        request,
        title=_("%(role)sの解任") % {"role": row.get_role_display()},
        lead=_("%(name)s さんを%(facility)sの%(role)sから解任しますか。")
        % {"name": name, "facility": facility.name, "role": row.get_role_display()},
        consequences=[
            *consequences,
            _("職員としてのアカウントと、参加しているグループはそのまま残ります。"),
            _("ご本人が他の端末でログインしていれば、その場でログアウトされます。"),
        ],
        button=_("解任する"),
        back_url=reverse("facilities:roles", args=[facility.pk]),
        undo=_("元に戻すには、同じ役割にもう一度任命します。"),
    )


# --- staff (第6条(3)(4), 留意事項 1, 2) --------------------------------------------------------


@login_required
@require_GET
def staff_page(request, pk):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN, *EDUCATION)
    query = query_text(request)
    status = query_choice(request, "status", selectors.STAFF_STATUSES, "all")
    page = requested_page(
        request, selectors.staff_list(facility, query=query, status=status), STAFF_PER_PAGE
    )
    return render(
        request,
        "facilities/staff.html",
        {
            "facility": facility,
            "memberships": page,
            "page": page,
            "pager_query": urlencode({"q": query, "status": status}),
            "query": query,
            "status": status,
            "grants": selectors.grants_on(request.user, facility),
            "year_start": selectors.fiscal_year_start_today(),
        },
    )


@login_required
@require_GET
def staff_detail(request, pk, user_id):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN, *EDUCATION)
    member = selectors.staff_member(facility, user_id)
    restrictions = list(selectors.restrictions_of(facility, member))
    for restriction in restrictions:
        restriction.reports = selectors.incident_reports_of(restriction)
    return render(
        request,
        "facilities/staff_detail.html",
        {
            "facility": facility,
            "member": member,
            "membership": member.memberships.get(facility=facility),
            "roles": member.facility_roles.filter(facility=facility),
            "restrictions": restrictions,
            "in_force": next((r for r in restrictions if r.in_force), None),
            "pledge": member.pledges.filter(facility=facility).first(),
            "sessions": member.education_sessions.filter(facility=facility),
            "grants": selectors.grants_on(request.user, facility),
        },
    )


def _staff_action(request, pk, user_id, form_class, template, perform, done_message):
    """One form page per action: GET shows it, POST performs it (a service) and redirects."""
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN)
    member = selectors.staff_member(facility, user_id, active_only=True)
    form = form_class(request.POST or None)
    done = form_action(
        request,
        form,
        lambda data: perform(facility, member, data),
        success=done_message,
        then=redirect("facilities:staff_detail", pk, user_id),
    )
    return done or render(request, template, {"facility": facility, "member": member, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def staff_deactivate(request, pk, user_id):
    def perform(facility, member, data):
        services.staff_deactivate(
            actor=request.user, user=member, facility=facility, reason=data["reason"]
        )

    return _staff_action(
        request,
        pk,
        user_id,
        DeactivateForm,
        "facilities/staff_deactivate.html",
        perform,
        _("利用を中止しました。ログインできなくなり、連携グループからも外れました。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_restrict(request, pk, user_id):
    def perform(facility, member, data):
        services.user_restrict(
            actor=request.user,
            user=member,
            facility=facility,
            level=data["level"],
            reason=data["reason"],
        )

    return _staff_action(
        request,
        pk,
        user_id,
        RestrictForm,
        "facilities/staff_restrict.html",
        perform,
        _("利用制限・禁止を記録しました。"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_reinstate(request, pk, user_id):
    def perform(facility, member, data):
        services.user_reinstate(
            actor=request.user, user=member, facility=facility, reason=data["reason"]
        )

    return _staff_action(
        request,
        pk,
        user_id,
        ReasonForm,
        "facilities/staff_reinstate.html",
        perform,
        _("利用制限・禁止を解除しました。"),
    )


# --- pledges and education (第7条: the facility manager) -----------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pledge_record(request, pk, user_id):
    facility = selectors.facility_for(request.user, pk, *EDUCATION)
    member = selectors.staff_member(facility, user_id, active_only=True)
    pledge = member.pledges.filter(facility=facility).first()
    initial = (
        {"signed_on": pledge.signed_on, "waived": pledge.waived, "note": pledge.note}
        if pledge
        else {}
    )
    form = PledgeForm(request.POST or None, initial=initial)
    done = form_action(
        request,
        form,
        lambda data: services.pledge_record(
            actor=request.user, user=member, facility=facility, **data
        ),
        success=_("誓約書を記録しました。"),
        then=redirect("facilities:education", pk),
    )
    if done:
        return done
    current = selectors.pledge_version_in_force()
    return render(
        request,
        "facilities/pledge_form.html",
        {
            "facility": facility,
            "member": member,
            "form": form,
            "pledge": pledge,
            "current": current,
            "blocks": _filled(current.blocks),
        },
    )


def _filled(blocks) -> list[dict]:
    network = NetworkSettings.load()
    return rule_text.fill(
        blocks, {field: getattr(network, field, "") for field in rule_text.PLACEHOLDERS.values()}
    )


@login_required
@require_GET
def my_pledge(request):
    """第7条: the staff member reads items (1)–(5) in force and confirms them, per facility."""
    states = selectors.pledge_states_of(request.user)
    current = states[0].current if states else None
    return render(
        request,
        "facilities/my_pledge.html",
        {
            "states": states,
            "current": current,
            "blocks": _filled(current.blocks) if current else [],
            "form": PledgeConfirmForm(initial={"version": current.pk if current else None}),
        },
    )


@login_required
@require_POST
def pledge_confirm(request, pk):
    facility = selectors.pledge_facility_of(request.user, pk)
    form = PledgeConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("誓約する内容を読み、確認欄に印を付けてください。"))
        return redirect("facilities:my_pledge")
    version = selectors.staff_pledge_version(form.cleaned_data["version"])
    return post_action(
        request,
        lambda: services.pledge_confirm(
            actor=request.user, facility=facility, rule_version=version
        ),
        success=_("%(facility)s への従事者誓約書を確認しました。") % {"facility": facility.name},
        then=redirect("facilities:my_pledge"),
    )


@login_required
@require_GET
def facility_rules(request, pk):
    """第14条: the facility's own rules, for its staff; its manager publishes new versions."""
    facility = selectors.facility_rules_facility(request.user, pk)
    in_force = selectors.facility_rules_in_force(facility)
    return render(
        request,
        "facilities/facility_rules.html",
        {
            "facility": facility,
            "in_force": in_force,
            "blocks": _filled(in_force.blocks) if in_force else [],
            "versions": selectors.facility_rules_history(facility),
            "grants": selectors.grants_on(request.user, facility),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def facility_rules_publish(request, pk):
    facility = selectors.facility_for(request.user, pk, "sign_for_facility")
    latest = selectors.facility_rules_history(facility).first()
    form = FacilityRulesForm(
        request.POST or None,
        initial={"source": rule_text.unparse(latest.blocks)} if latest else {},
    )
    done = form_action(
        request,
        form,
        lambda data: services.facility_rules_publish(
            actor=request.user,
            facility=facility,
            **picked(data, "source", "approved_on", "effective_on", "summary"),
        ),
        success=_("事業所の定めを登録しました。"),
        then=redirect("facilities:facility_rules", pk),
    )
    return done or render(
        request, "facilities/facility_rules_form.html", {"facility": facility, "form": form}
    )


@login_required
@require_GET
def education_page(request, pk):
    facility = selectors.facility_for(request.user, pk, *EDUCATION_SESSIONS)
    return render(
        request,
        "facilities/education.html",
        {
            "facility": facility,
            "grants": selectors.grants_on(request.user, facility),
            "sessions": selectors.education_sessions_of(facility),
            "gaps": selectors.staff_gaps(facility),
            "memberships": [m for m in selectors.staff_list(facility) if m.is_active],
        },
    )


def _education_form(request, pk, session_id=None):
    facility = selectors.facility_for(request.user, pk, *EDUCATION_SESSIONS)
    session = selectors.education_session_of(facility, session_id) if session_id else None
    initial = {}
    if session is not None:
        initial = {
            "held_on": session.held_on,
            "topic": session.topic,
            "notes": session.notes,
            "attendees": list(session.attendees.all()),
        }
    staff = selectors.active_staff(facility)
    if session is not None:  # a past attendee who left since stays listed
        staff = (staff | session.attendees.all()).distinct().order_by("kana", "email")
    form = EducationForm(request.POST or None, staff=staff, initial=initial)
    done = form_action(
        request,
        form,
        lambda data: services.education_session_save(
            actor=request.user, facility=facility, session=session, **data
        ),
        success=_("教育の実施を記録しました。"),
        then=redirect("facilities:education", pk),
    )
    return done or render(
        request,
        "facilities/education_form.html",
        {"facility": facility, "form": form, "session": session},
    )


@login_required
@require_http_methods(["GET", "POST"])
def education_create(request, pk):
    return _education_form(request, pk)


@login_required
@require_http_methods(["GET", "POST"])
def education_edit(request, pk, session_id):
    return _education_form(request, pk, session_id)


# --- invitations (第6条(4)) ----------------------------------------------------------------------


@login_required
@require_GET
def invitations_page(request, pk):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN)
    return render(
        request,
        "facilities/invitations.html",
        {
            "facility": facility,
            "grants": selectors.grants_on(request.user, facility),
            "invitations": selectors.invitations_of(facility)[:200],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation_create(request, pk):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN)
    may_appoint = permissions.can_appoint_mcs_admin(request.user, facility)
    form = InvitationForm(request.POST or None, may_appoint_admin=may_appoint)
    done = form_action(
        request,
        form,
        lambda data: services.staff_invite(actor=request.user, facility=facility, **data),
        success=lambda invitation: (
            _("%(email)s に招待メールを送りました。") % {"email": invitation.email}
        ),
        then=redirect("facilities:invitations", pk),
    )
    return done or render(
        request, "facilities/invitation_form.html", {"facility": facility, "form": form}
    )


@login_required
@require_POST
def invitation_resend(request, pk, invitation_id):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN)
    invitation = selectors.invitation_of(facility, invitation_id)
    return post_action(
        request,
        lambda: services.invitation_resend(actor=request.user, invitation=invitation),
        success=_("%(email)s に招待メールを再送しました。") % {"email": invitation.email},
        then=redirect("facilities:invitations", pk=pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation_revoke(request, pk, invitation_id):
    facility = selectors.facility_for(request.user, pk, *STAFF_ADMIN)
    invitation = selectors.invitation_of(facility, invitation_id)
    if request.method == "GET":
        return confirm_page(
            request,
            title=_("招待の取り消し"),
            lead=_("%(email)s への招待を取り消しますか。") % {"email": invitation.email},
            consequences=[
                _("送った招待メールのリンクは使えなくなります。"),
                _("もう一度招待するときは、新しい招待を送ります。"),
            ],
            button=_("招待を取り消す"),
            back_url=reverse("facilities:invitations", args=[pk]),
        )
    return post_action(
        request,
        lambda: services.invitation_revoke(actor=request.user, invitation=invitation),
        success=_("%(email)s への招待を取り消しました。") % {"email": invitation.email},
        then=redirect("facilities:invitations", pk=pk),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """The link from the e-mail. A new person sets a password and profile and is signed in;
    the owner of an existing account signs in first and adds this facility to it."""
    invitation = selectors.invitation_for_token(token)
    if invitation is None:
        return render(request, "facilities/invitation_invalid.html", status=404)
    if not invitation.is_usable:
        return render(request, "facilities/invitation_invalid.html", {"invitation": invitation})
    existing = User.objects.filter(email=invitation.email).first()
    signed_in = request.user.is_authenticated
    context = {"invitation": invitation, "existing": existing}
    if existing is not None and existing.state != User.State.LEFT:
        # One person, one account: they add the facility to the account they already have.
        if not signed_in:
            return render(request, "facilities/invitation_sign_in.html", context)
        if request.user.pk != existing.pk:
            return render(request, "facilities/invitation_other_account.html", context)
        if request.method == "POST":
            try:
                services.staff_invitation_accept(invitation=invitation, user=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
                return redirect("home")
            return _done(
                request,
                _("%(facility)sの職員として登録されました。")
                % {"facility": invitation.facility.name},
                reverse("home"),
            )
        return render(request, "facilities/invitation_confirm.html", context)
    if signed_in:  # someone else's browser session: never mix two people's accounts
        return render(request, "facilities/invitation_other_account.html", context)
    initial = {
        "name": invitation.name,
        "kana": invitation.kana,
        "occupation": invitation.occupation,
    }
    form = InvitationAcceptForm(request.POST or None, invitation=invitation, initial=initial)

    def perform(data):
        user = services.staff_invitation_accept(
            invitation=invitation,
            password=data["password1"],
            name=data["name"],
            kana=data["kana"],
            occupation=data["occupation"],
            phone=data["phone"],
        )
        login(request, user, backend="facilities.backends.PortalModelBackend")

    done = form_action(
        request,
        form,
        perform,
        success=_("ようこそ。%(facility)sの職員として登録されました。")
        % {"facility": invitation.facility.name},
        then=redirect("home"),
    )
    return done or render(request, "facilities/invitation_accept.html", {**context, "form": form})


# --- everyone: profile, photos, directory --------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@request_body_limit(MAX_PHOTO_BYTES + FORM_OVERHEAD_BYTES)  # a larger photo is not even read
def profile_edit(request):
    user = request.user
    initial = {
        "name": user.name,
        "kana": user.kana,
        "occupation": user.occupation,
        "phone": user.phone,
    }
    form = ProfileForm(request.POST or None, request.FILES or None, user=user, initial=initial)
    done = form_action(
        request,
        form,
        lambda data: services.profile_update(actor=user, user=user, **data),
        success=_("プロフィールを保存しました。"),
        then=redirect("facilities:profile"),
    )
    return done or render(request, "facilities/profile.html", {"form": form, "profile_user": user})


@login_required
@require_GET
def photo(request, user_id):
    """A face photo, streamed to signed-in network users only (never a public URL)."""
    owner = selectors.photo_owner(request.user, user_id)
    return private_file_response(
        owner.photo, download_name=f"photo-{owner.pk}.jpg", as_attachment=False
    )


@login_required
@require_GET
def directory_users_page(request):
    facilities = selectors.directory_facility_choices(request.user)
    form = DirectoryUserSearchForm(request.GET, facilities=facilities)
    users, searched = [], False
    if form.is_valid():  # every field is optional: no query lists the first in kana order
        data = form.cleaned_data
        searched = any(data.values())
        users = list(
            selectors.directory_users(
                viewer=request.user,
                query=data["q"],
                facility=data["facility"],
                occupation=data["occupation"],
                limit=50,
            )
        )
    return render(
        request,
        "facilities/directory.html",
        {"form": form, "users": users, "searched": searched, "limit": 50},
    )


@login_required
@require_GET
def directory_facilities_page(request):
    form = DirectoryFacilitySearchForm(request.GET)
    facilities = []
    if form.is_valid():
        facilities = list(
            selectors.directory_facilities(
                viewer=request.user,
                query=form.cleaned_data["q"],
                kind=form.cleaned_data["kind"],
                town=form.cleaned_data["town"],
            )
        )
    return render(
        request, "facilities/directory_facilities.html", {"form": form, "facilities": facilities}
    )


@login_required
@require_GET
def facility_picker_search(request):
    """JSON for picker.js: active facilities whose name holds what was typed (the directory's
    own search and its visibility: name, kind and town only)."""
    query = search_query(request.GET.get("q", ""))
    facilities = selectors.directory_facilities(
        viewer=request.user, query=query, limit=PICKER_RESULTS
    )
    if not search_key(query):
        facilities = []
    return JsonResponse(
        {"results": [{"id": f.pk, "label": facility_choice_label(f)} for f in facilities]}
    )
