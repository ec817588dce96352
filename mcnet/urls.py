from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.urls import include, path

from . import views

# The admin login goes through allauth, so its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)
# Second factors and allauth's own address book are each user's own business: the center
# never sees TOTP secrets or recovery codes (unregistered here, after admin autodiscovery).
admin.site.unregister(Authenticator)
admin.site.unregister(EmailAddress)

handler400 = "mcnet.views.bad_request"
handler403 = "mcnet.views.permission_denied"
handler404 = "mcnet.views.page_not_found"
handler500 = "mcnet.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.livez, name="livez"),
    path("inbox/", views.inbox, name="inbox"),
    path("session/keepalive", views.session_keepalive, name="session_keepalive"),
    path("facilities/", include("facilities.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("patients/", include("consents.urls")),
    path("groups/", include("groups.urls")),
    path("devices/", include("devices.urls")),
    path("documents/", include("mcnet.printing.urls")),
    path("center/", include("mcnet.dashboard.urls")),
    path("audit/", include("mcnet.auditlog.urls")),
    path("help/", views.help_index, name="help"),
    path("help/glossary/", views.help_glossary, name="help_glossary"),
    path("rules/", include("mcnet.rulebook.urls")),
    # Shadows allauth's address book: the e-mail is the MCS ID, changed through the facility.
    path("accounts/email/", views.email_is_the_mcs_id, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
