"""Reads of the enrollment app, scoped to the asking user (or to the applicant's link).

A facility files 別紙3/別紙4 through the people who may sign for it: its facility manager
(sign_for_facility) or its MCS administrator (manage_staff, 第6条(4)). Anyone else gets 404,
so another facility's papers do not even show that they exist.
"""

from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from facilities.models import Facility, User
from facilities.permissions import ROLE_PERMISSIONS, facility_ids_with
from mcnet.models import NetworkSettings
from mcnet.wareki import wareki

from .models import Application, ChangeNotice, RosterRequest

STATUS_SALT = "enrollment.application.status"
CONFIRM_SALT = "enrollment.application.confirm"
CONFIRM_MAX_AGE_DAYS = 3

FILE_PERMS = ("facilities.sign_for_facility", "facilities.manage_staff")
STOP_PERMS = ("facilities.sign_for_facility",)  # stopping altogether: the manager signs


# --- the applicant's links -------------------------------------------------------------------


def application_status_token(application: Application) -> str:
    """The applicant's key to their application: signed, so the database alone cannot forge it."""
    return signing.Signer(salt=STATUS_SALT).sign(application.access_nonce)


def application_confirm_token(application: Application) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(application.access_nonce)


def application_status_path(application: Application) -> str:
    return reverse("enrollment:application_status", args=[application_status_token(application)])


def application_confirm_path(application: Application) -> str:
    return reverse("enrollment:apply_confirm", args=[application_confirm_token(application)])


def application_for_token(token: str) -> Application:
    """The one application this link opens; 404 for anything else."""
    try:
        nonce = signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature:
        raise Http404 from None
    application = Application.objects.filter(access_nonce=nonce).first()
    if application is None or application.state == Application.State.UNCONFIRMED:
        raise Http404
    return application


class ConfirmLinkExpired(Exception):
    pass


def application_for_confirm_token(token: str) -> Application:
    """The application whose address this link confirms; ConfirmLinkExpired after 3 days."""
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        nonce = signer.unsign(token, max_age=timezone.timedelta(days=CONFIRM_MAX_AGE_DAYS))
    except signing.SignatureExpired:
        raise ConfirmLinkExpired from None
    except signing.BadSignature:
        raise Http404 from None
    application = Application.objects.filter(access_nonce=nonce).first()
    if application is None:
        raise Http404
    return application


# --- who may file for which facility ----------------------------------------------------------


def _codenames(perms) -> list[str]:
    return [perm.split(".", 1)[1] for perm in perms]


def _roles_granting(perms) -> list[str]:
    return [role for role, granted in ROLE_PERMISSIONS.items() if set(perms) & set(granted)]


def filing_facilities(user, *, perms=FILE_PERMS) -> QuerySet[Facility]:
    """Active facilities for which `user` may file 別紙3/別紙4 (by their role rows)."""
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, *_codenames(perms)),
        state=Facility.State.ACTIVE,
        memberships__user=user,
        memberships__is_active=True,
    ).distinct()


def may_file(user) -> bool:
    """Whether filing_facilities(user) is not empty, from the role rows read for the request
    (the menu asks on every page)."""
    if not user.is_authenticated or not user.is_active or user.state != User.State.ACTIVE:
        return False
    return user.holds_current_role(*_roles_granting(FILE_PERMS))


def facility_for_filing(user, facility_id, *, perms=FILE_PERMS) -> Facility:
    """The facility, if `user` may file for it; 404 otherwise (another facility's too)."""
    facility = filing_facilities(user).filter(pk=facility_id).first()
    if facility is None or not any(user.has_perm(perm, facility) for perm in perms):
        raise Http404
    return facility


def facility_for_stop(user, facility_id) -> Facility:
    return facility_for_filing(user, facility_id, perms=STOP_PERMS)


def can_stop(user, facility: Facility) -> bool:
    return user.has_perm(STOP_PERMS[0], facility)


def roster_requests_for(user) -> QuerySet[RosterRequest]:
    return (
        RosterRequest.objects.filter(facility__in=_facilities_with_history(user))
        .select_related("facility")
        .annotate(row_count=Count("rows"))
    )


def roster_request_for(user, pk) -> RosterRequest:
    request = roster_requests_for(user).filter(pk=pk).first()
    if request is None:
        raise Http404
    return request


def notices_for(user) -> QuerySet[ChangeNotice]:
    return (
        ChangeNotice.objects.filter(facility__in=_facilities_with_history(user))
        .select_related("facility")
        .annotate(row_count=Count("rows"))
    )


def _facilities_with_history(user) -> QuerySet[Facility]:
    # A facility that stopped (withdrawn) still lets its signers read what they filed, as long
    # as they can sign in; filing_facilities() alone would hide it.
    return Facility.objects.filter(
        pk__in=facility_ids_with(user, *_codenames(FILE_PERMS), while_restricted=True),
        memberships__user=user,
        memberships__is_active=True,
    ).distinct()


def notice_for(user, pk) -> ChangeNotice:
    notice = notices_for(user).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice


def notice_to_submit_for(user, pk) -> ChangeNotice:
    """An open 別紙4 (the portal's changes, or one the center returned) of a facility for which
    `user` may still file; anything else is not found. A notice already sent is found, so a
    second click is told it went."""
    notice = notices_for(user).filter(pk=pk, facility__in=filing_facilities(user)).first()
    if notice is None:
        raise Http404
    return notice


def can_submit_notice(user, notice: ChangeNotice) -> bool:
    return (
        notice.state in (ChangeNotice.State.DRAFT, ChangeNotice.State.RETURNED)
        and filing_facilities(user).filter(pk=notice.facility_id).exists()
    )


def notice_scan_for(user, pk) -> ChangeNotice:
    notice = notice_for(user, pk)
    if not notice.scan:
        raise Http404
    return notice


# --- who is told ---------------------------------------------------------------------------------


def facility_signers(facility: Facility) -> QuerySet[User]:
    """The facility manager(s) and MCS administrator(s), who receive the center's answers."""
    return User.objects.filter(
        facility_roles__facility=facility,
        facility_roles__role__in=_roles_granting(FILE_PERMS),
        is_active=True,
    ).distinct()


# --- home page -------------------------------------------------------------------------------------


def home_section(user) -> dict | None:
    if not user.is_authenticated:
        return None
    if user.is_center_staff:
        return {
            "center": True,
            "applications": Application.objects.filter(state=Application.State.SUBMITTED).count(),
            "rosters": RosterRequest.objects.filter(state=RosterRequest.State.SUBMITTED).count(),
            "notices": ChangeNotice.objects.filter(state=ChangeNotice.State.SUBMITTED).count(),
        }
    facilities = list(filing_facilities(user)) if may_file(user) else []
    if not facilities:
        return None
    pending = Q(state=RosterRequest.State.SUBMITTED)
    return {
        "center": False,
        "facilities": facilities,
        "pending_rosters": RosterRequest.objects.filter(pending, facility__in=facilities).count(),
        "pending_notices": ChangeNotice.objects.filter(
            facility__in=facilities, state=ChangeNotice.State.SUBMITTED
        ).count(),
        # 第4条2: the portal's own changes, waiting for the facility to send them.
        "draft_notices": list(
            ChangeNotice.objects.filter(
                facility__in=facilities,
                state__in=(ChangeNotice.State.DRAFT, ChangeNotice.State.RETURNED),
            ).select_related("facility")
        ),
    }


# --- what the printed forms need (別紙1-4), as plain dicts ------------------------------------------


def _network() -> dict:
    network = NetworkSettings.load()
    return {
        "name": network.name,
        "operator": network.operator,
        "addressee": network.operator_head_title,
        "center_name": network.center_name,
        "center_postal_code": network.center_postal_code,
        "center_address": network.center_address,
        "center_phone": network.center_phone,
        "center_fax": network.center_fax,
        "center_email": network.center_email,
    }


def _facility_fields(source) -> dict:
    """Facility data from a Facility or an Application (the same names where they overlap)."""
    name = getattr(source, "facility_name", None) or source.name
    return {
        "facility_name": name,
        "postal_code": source.postal_code,
        "prefecture": source.prefecture,
        "city": source.city,
        "town": source.town,
        "address_line": source.address_line,
        "address": source.address,
        "phone": source.phone,
        "kind": source.kind,
        "kind_label": str(source.get_kind_display()),
        "manager_name": source.manager_name,
        "manager_email": source.manager_email,
    }


def besshi1_context(application: Application) -> dict:
    """別紙1 MC ネット利用申込書: every field of the paper, filled from the application."""
    return {
        "form": "besshi1",
        "title": "MC ネット利用申込書",
        "network": _network(),
        "date": application.applied_on,
        "date_wareki": wareki(application.applied_on),
        **_facility_fields(application),
        "state": application.state,
        "state_label": str(application.get_state_display()),
    }


def besshi2_context(application: Application) -> dict:
    """別紙2 連携守秘誓約書: the signer and the facility; the articles are the template's."""
    return {
        "form": "besshi2",
        "title": "MC ネット利用に係る連携守秘誓約書",
        "network": _network(),
        "date": application.applied_on,
        "date_wareki": wareki(application.applied_on),
        **_facility_fields(application),
        "pledge_affirmed": application.pledge_affirmed,
        "pledge_version": application.pledge_version,
        "pledge_rule_version": application.pledge_rule_version,
    }


def besshi3_context(roster_request: RosterRequest) -> dict:
    """別紙3 一括登録代行申込書: the facility's data and every staff row."""
    facility = roster_request.facility
    return {
        "form": "besshi3",
        "title": "MC ネット一括登録代行申込書（メール申し込み）",
        "network": _network(),
        "date": roster_request.applied_on,
        "date_wareki": wareki(roster_request.applied_on),
        "representative_name": roster_request.representative_name,
        **_facility_fields(facility),
        "state": roster_request.state,
        "state_label": str(roster_request.get_state_display()),
        "rows": [
            {
                "no": row.row_number,
                "name": row.name,
                "gender": row.gender,
                "gender_label": str(row.get_gender_display())
                if row.gender != "unspecified"
                else "",
                "occupation": row.occupation,
                "occupation_label": str(row.get_occupation_display()),
                "email": row.email,
                "is_mcs_admin": row.is_mcs_admin,
                "admin_mark": "〇" if row.is_mcs_admin else "",
                "had_mcs_account": row.had_mcs_account,
                "registered_mark": "有" if row.had_mcs_account else "",
            }
            for row in roster_request.rows.all()
        ],
    }


def besshi4_context(change_notice: ChangeNotice) -> dict:
    """別紙4 利用登録変更・中止届書: the facility, the signer, and each added/deleted person."""
    facility = change_notice.facility
    return {
        "form": "besshi4",
        "title": "MC ネット利用登録変更・中止届書",
        "network": _network(),
        "date": change_notice.notice_date,
        "date_wareki": wareki(change_notice.notice_date),
        **_facility_fields(facility),
        "signer_name": change_notice.signer_name or facility.manager_name,
        "notice_kind": change_notice.kind,
        "notice_kind_label": str(change_notice.get_kind_display()),
        "stop": change_notice.kind == ChangeNotice.Kind.STOP,
        "reason": change_notice.reason,
        "state": change_notice.state,
        "state_label": str(change_notice.get_state_display()),
        "rows": [
            {
                "no": row.row_number,
                "kana": row.kana,
                "name": row.name,
                "occupation": row.occupation,
                "occupation_label": str(row.get_occupation_display()) if row.occupation else "",
                "email": row.email,
                "is_mcs_admin": row.is_mcs_admin,
                "admin_mark": "〇" if row.is_mcs_admin else "",
                "action": row.action,
                "action_label": str(row.get_action_display()),
            }
            for row in change_notice.rows.all()
        ],
    }
