"""Permission expectations for the enrollment app's URLs (see expectations.py for the outcomes).

The application pages are public (no account) and scoped by the applicant's signed link;
別紙3/別紙4 pages open only to the facility's manager or MCS administrator (ABC: the doctor
is its facility manager and admin@abc its MCS administrator; 高田: admin@takada is both).
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, LOGIN, NOT_ALLOWED, OK, REDIRECT, Expect, everyone, signed_in


def _application():
    from enrollment.models import Application

    return Application.objects.get(manager_email="manager@myoko-pharmacy.example.jp")


def _status_token():
    from enrollment.selectors import application_status_token

    return {"token": application_status_token(_application())}


def _confirm_token():
    from enrollment.selectors import application_confirm_token

    return {"token": application_confirm_token(_application())}


def _facility(name):
    def kwargs():
        from facilities.models import Facility

        return {"facility_id": Facility.objects.get(name=name).pk}

    return kwargs


def _roster():
    from enrollment.models import RosterRequest

    return {"pk": RosterRequest.objects.get(facility__name="ABCクリニック").pk}


def _notice():
    from enrollment.models import ChangeNotice

    return {"pk": ChangeNotice.objects.get(facility__name="高田訪問看護ステーション").pk}


ABC = "ABCクリニック"
TAKADA = "高田訪問看護ステーション"

# ABC's facility manager (the doctor) and MCS administrator may file for ABC; nobody else.
ABC_SIGNERS = {
    **signed_in(DENIED),
    "other_facility_user": OK,
    "other_mcs_admin": OK,
}
# 高田's MCS administrator is also its facility manager; the nurse there has no role.
TAKADA_SIGNERS = {**signed_in(DENIED), "mcs_admin": OK}

EXPECTATIONS: dict = {
    # 別紙1/別紙2: public pages; the applicant's own pages are opened by their link alone.
    "enrollment:apply": Expect(everyone(OK)),
    # Japan Post's public data for the public form: no account needed.
    "enrollment:postal_code_lookup": Expect(everyone(OK), data={"code": "９４３－０８３４"}),
    "enrollment:apply_sent": Expect(everyone(OK)),
    # Already confirmed: the link leads on to the status page.
    "enrollment:apply_confirm": Expect(everyone(REDIRECT), kwargs=_confirm_token),
    "enrollment:application_status": Expect(everyone(OK), kwargs=_status_token),
    "printing:application_preview": Expect(everyone(OK), kwargs=_status_token),
    "enrollment:application_scan": Expect(everyone(NOT_ALLOWED), kwargs=_status_token),
    "enrollment:application_resubmit": Expect(everyone(NOT_ALLOWED), kwargs=_status_token),
    # 別紙3 / 別紙4: the facility's signers.
    "enrollment:index": Expect(signed_in(OK)),
    "enrollment:roster_new": Expect(ABC_SIGNERS, kwargs=_facility(ABC)),
    "enrollment:roster_upload": Expect(signed_in(NOT_ALLOWED), kwargs=_facility(ABC)),
    "enrollment:roster_template": Expect(ABC_SIGNERS, kwargs=_facility(ABC)),
    "enrollment:roster_detail": Expect(ABC_SIGNERS, kwargs=_roster),
    "enrollment:notice_new": Expect(TAKADA_SIGNERS, kwargs=_facility(TAKADA)),
    "enrollment:notice_stop": Expect(TAKADA_SIGNERS, kwargs=_facility(TAKADA)),
    "enrollment:notice_detail": Expect(TAKADA_SIGNERS, kwargs=_notice),
    # The demo notice has no scan: nobody gets a file (tests/enrollment covers one that has).
    "enrollment:notice_scan": Expect(signed_in(DENIED), kwargs=_notice),
    # 第4条2: sending the open 別紙4 (the demo's is already sent: the signer is told so).
    "enrollment:notice_draft_submit": Expect(
        {**signed_in(DENIED), "mcs_admin": REDIRECT}, kwargs=_notice, method="post"
    ),
}

__all__ = ["EXPECTATIONS", "LOGIN"]
