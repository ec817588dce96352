"""Permission expectations for the facilities app's URLs (see expectations.py for the outcomes).

Every facility page is asked about 高田 (where "mcs_admin" is the MCS administrator and the
facility manager and "user" is a nurse): only its administrator gets in; the other facilities'
administrators and staff, the nurse herself and the center (which works in the admin) get 404.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, OK, REDIRECT, Expect, everyone, signed_in

TAKADA = "高田訪問看護ステーション"
NURSE = "nurse@takada.example.jp"
ADMIN = "admin@takada.example.jp"


def _takada() -> dict:
    from facilities.models import Facility

    return {"pk": Facility.objects.get(name=TAKADA).pk}


def _staff(email: str = NURSE):
    def kwargs() -> dict:
        from facilities.models import User

        return {**_takada(), "user_id": User.objects.get(email=email).pk}

    return kwargs


def _role_row() -> dict:
    from facilities.models import FacilityRole

    row = FacilityRole.objects.get(
        facility__name=TAKADA, user__email=ADMIN, role=FacilityRole.Role.MCS_ADMIN
    )
    return {**_takada(), "role_id": row.pk}


def _appointment() -> dict:
    from facilities.models import FacilityRole, User

    nurse = User.objects.get(email=NURSE)
    return {"user": nurse.pk, "role": FacilityRole.Role.GROUP_MANAGER}


def _invitation() -> dict:
    from facilities.models import Invitation

    return {**_takada(), "invitation_id": Invitation.objects.get(facility__name=TAKADA).pk}


def _invitation_token() -> dict:
    from facilities.models import Invitation

    return {"token": Invitation.objects.get(facility__name=TAKADA).token}


def _session() -> dict:
    from facilities.models import EducationSession

    return {
        **_takada(),
        "session_id": EducationSession.objects.get(facility__name=TAKADA).pk,
    }


def _photo() -> dict:
    from facilities.models import User

    return {"user_id": User.objects.get(email=NURSE).pk}


def takada_admin(outcome: str = OK) -> dict:
    """Only 高田's MCS administrator (and facility manager); everyone else signed in: 404."""
    return {**signed_in(DENIED), "mcs_admin": outcome}


# Facility managers and MCS administrators of one facility are sent to it; others see a list.
RUNS_ONE_FACILITY = {
    **signed_in(REDIRECT),
    "user": OK,
    "center": OK,
}

EXPECTATIONS: dict = {
    # Everyone signed in.
    "facilities:directory": Expect(signed_in(OK), data={"q": "たかだ"}),
    "facilities:directory_facilities": Expect(signed_in(OK), data={"q": "高田"}),
    # The facility picker's search as one types (the directory's search, as JSON).
    "facilities:facility_picker_search": Expect(signed_in(OK), data={"q": "高田"}),
    "facilities:profile": Expect(signed_in(OK)),
    "facilities:photo": Expect(signed_in(OK), kwargs=_photo),
    "facilities:postal_code_lookup": Expect(signed_in(OK), data={"code": "９４３－０８３５"}),
    # The link from the invitation e-mail: the form for the invitee, an explanation for a
    # browser signed in as someone else.
    "facilities:invitation_accept": Expect(everyone(OK), kwargs=_invitation_token),
    # The facility's own pages.
    "facilities:mine": Expect(RUNS_ONE_FACILITY),
    "facilities:detail": Expect(takada_admin(), kwargs=_takada),
    "facilities:edit": Expect(takada_admin(), kwargs=_takada),
    "facilities:roles": Expect(takada_admin(), kwargs=_takada),
    "facilities:role_appoint": Expect(
        takada_admin(REDIRECT), kwargs=_takada, method="post", data=_appointment
    ),
    "facilities:role_relieve": Expect(takada_admin(REDIRECT), kwargs=_role_row, method="post"),
    "facilities:staff": Expect(takada_admin(), kwargs=_takada),
    "facilities:staff_detail": Expect(takada_admin(), kwargs=_staff()),
    "facilities:staff_deactivate": Expect(takada_admin(), kwargs=_staff()),
    "facilities:staff_restrict": Expect(takada_admin(), kwargs=_staff()),
    "facilities:staff_reinstate": Expect(takada_admin(), kwargs=_staff()),
    "facilities:pledge_record": Expect(takada_admin(), kwargs=_staff()),
    "facilities:invitations": Expect(takada_admin(), kwargs=_takada),
    "facilities:invitation_create": Expect(takada_admin(), kwargs=_takada),
    "facilities:invitation_resend": Expect(
        takada_admin(REDIRECT), kwargs=_invitation, method="post"
    ),
    "facilities:invitation_revoke": Expect(
        takada_admin(REDIRECT), kwargs=_invitation, method="post"
    ),
    "facilities:education": Expect(takada_admin(), kwargs=_takada),
    "facilities:education_create": Expect(takada_admin(), kwargs=_takada),
    "facilities:education_edit": Expect(takada_admin(), kwargs=_session),
}
