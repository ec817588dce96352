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
from facilities.permissions import facility_ids_with
from mcnet.selectors import first_or_404

from . import permissions
from .models import Application, ChangeNotice, RosterRequest

STATUS_SALT = "enrollment.application.status"
CONFIRM_SALT = "enrollment.application.confirm"
CONFIRM_MAX_AGE_DAYS = 3


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
    return first_or_404(Application.objects.filter(access_nonce=nonce))


# --- who may file for which facility ----------------------------------------------------------


def facility_for_filing(user, facility_id, *, perms=permissions.FILE_PERMS) -> Facility:
    """The facility, if `user` may file for it; 404 otherwise (another facility's too)."""
    facility = permissions.filing_facilities(user).filter(pk=facility_id).first()
    if facility is None or not any(user.has_perm(perm, facility) for perm in perms):
        raise Http404
    return facility


def facility_for_stop(user, facility_id) -> Facility:
    return facility_for_filing(user, facility_id, perms=permissions.STOP_PERMS)


def roster_requests_for(user) -> QuerySet[RosterRequest]:
    return (
        RosterRequest.objects.filter(facility__in=_facilities_with_history(user))
        .select_related("facility")
        .annotate(row_count=Count("rows"))
    )


def roster_request_for(user, pk) -> RosterRequest:
    return first_or_404(roster_requests_for(user).filter(pk=pk))


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
        pk__in=facility_ids_with(
            user, *permissions.codenames(permissions.FILE_PERMS), while_restricted=True
        ),
        memberships__user=user,
        memberships__is_active=True,
    ).distinct()


def notice_for(user, pk) -> ChangeNotice:
    return first_or_404(notices_for(user).filter(pk=pk))


def notice_to_submit_for(user, pk) -> ChangeNotice:
    """An open 別紙4 (the portal's changes, or one the center returned) of a facility for which
    `user` may still file; anything else is not found. A notice already sent is found, so a
    second click is told it went."""
    return first_or_404(
        notices_for(user).filter(pk=pk, facility__in=permissions.filing_facilities(user))
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
        facility_roles__role__in=permissions.roles_granting(permissions.FILE_PERMS),
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
    facilities = list(permissions.filing_facilities(user)) if permissions.may_file(user) else []
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
