"""What every role gets from every page: the permission matrix (deny by default).

The shell's and allauth's pages are here; each app's are in expectations_<app>.py. A URL
that is listed nowhere fails the matrix test.
"""

from . import (
    expectations_consents,
    expectations_dashboard,
    expectations_devices,
    expectations_enrollment,
    expectations_facilities,
    expectations_groups,
    expectations_patient_requests,
    expectations_printing,
    expectations_rulebook,
)
from .expectations_base import (  # noqa: F401 — re-exported for the test
    ADMIN_DENIED,
    DENIED,
    LOGIN,
    NOT_ALLOWED,
    OK,
    REDIRECT,
    ROLES,
    Expect,
    everyone,
    signed_in,
)

# --- mcnet: the shell of the portal -------------------------------------------------------
MCNET = {
    "home": Expect(signed_in(OK)),
    "inbox": Expect(signed_in(OK)),
    # The role guides are for those signed in; the glossary holds only the rules' words and
    # is read before signing in too (the application, 別紙1–3).
    "help": Expect(signed_in(OK)),
    "help_glossary": Expect(everyone(OK)),
    # The idle warning's button: POST only.
    "session_keepalive": Expect(signed_in(NOT_ALLOWED)),
    "healthz": Expect(everyone(OK)),
    "livez": Expect(everyone(OK)),
    "set_language": Expect(everyone(REDIRECT)),
}


# --- accounts (allauth): login, password, MFA ------------------------------------------------
# Allauth's own flows: a step that needs state it does not have redirects. Administrators here
# already have TOTP (client_as), so their MFA pages differ from ordinary users'.
def by_mfa(without: str, with_totp: str) -> dict:
    return {
        "anonymous": LOGIN,
        "user": without,
        "other_facility_user": with_totp,  # ABC's facility manager
        "mcs_admin": with_totp,
        "other_mcs_admin": with_totp,
        "group_manager": with_totp,
        "center": with_totp,
    }


ACCOUNTS = {
    "account_login": Expect(signed_in(REDIRECT, anonymous=OK)),
    "account_logout": Expect(signed_in(OK)),
    "account_inactive": Expect(everyone(OK)),
    # No self sign-up: the page only says so.
    "account_signup": Expect(signed_in(REDIRECT, anonymous=OK)),
    "account_reauthenticate": Expect(signed_in(OK)),
    # allauth 65.22: reauthenticating by a mailed code. Login by code is off here, so the
    # code pages only send a signed-in user back (a code is never mailed).
    "account_request_reauthentication_code": Expect(signed_in(REDIRECT)),
    "account_confirm_reauthentication_code": Expect(signed_in(REDIRECT)),
    # The MCS ID is changed through the facility (別紙4): this page only says so.
    "account_email": Expect(signed_in(OK)),
    "account_email_verification_sent": Expect(everyone(OK)),
    "account_change_password": Expect(signed_in(OK)),
    "account_set_password": Expect(signed_in(REDIRECT)),
    # Art. 11 (11) asks a user who lost a device to change the password from another device:
    # the reset pages stay open to everyone.
    "account_reset_password": Expect(everyone(OK)),
    "account_reset_password_done": Expect(everyone(OK)),
    "account_reset_password_from_key": Expect(
        everyone(OK), kwargs={"uidb36": "zz", "key": "bad-key"}
    ),
    "account_reset_password_from_key_done": Expect(everyone(OK)),
    "account_confirm_login_code": Expect(signed_in(REDIRECT)),
    "account_confirm_email": Expect(everyone(OK), kwargs={"key": "bad-key"}),
    "mfa_index": Expect(signed_in(OK)),
    "mfa_authenticate": Expect(signed_in(REDIRECT)),
    "mfa_reauthenticate": Expect(by_mfa(REDIRECT, OK)),
    "mfa_activate_totp": Expect(signed_in(REDIRECT)),  # asks for the password again first
    "mfa_deactivate_totp": Expect(by_mfa(DENIED, REDIRECT)),
    "mfa_view_recovery_codes": Expect(signed_in(DENIED)),  # none generated yet
    "mfa_generate_recovery_codes": Expect(signed_in(REDIRECT)),
    "mfa_download_recovery_codes": Expect(signed_in(DENIED)),
    "mfa_list_webauthn": Expect(signed_in(OK)),
    "mfa_add_webauthn": Expect(signed_in(REDIRECT)),
    "mfa_reauthenticate_webauthn": Expect(signed_in(REDIRECT)),
    "mfa_remove_webauthn": Expect(signed_in(REDIRECT), kwargs={"pk": 999999}),
    "mfa_edit_webauthn": Expect(signed_in(REDIRECT), kwargs={"pk": 999999}),
}

EXPECTATIONS: dict[str, Expect] = {
    **MCNET,
    **ACCOUNTS,
    **expectations_facilities.EXPECTATIONS,
    **expectations_enrollment.EXPECTATIONS,
    **expectations_consents.EXPECTATIONS,
    **expectations_groups.EXPECTATIONS,
    **expectations_devices.EXPECTATIONS,
    **expectations_printing.EXPECTATIONS,
    **expectations_patient_requests.EXPECTATIONS,
    **expectations_dashboard.EXPECTATIONS,
    **expectations_rulebook.EXPECTATIONS,
}

# The Django admin is the center's alone; every admin URL follows one rule (see the test).
ADMIN_NAMESPACE = "admin:"
