"""Settings shared by every environment; each environment overrides what differs.

Everything a deployment changes is read from the environment (see README, "Production").
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "insecure-development-key-only-for-the-local-demo")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "mcnet",
    "facilities",
    "enrollment",
    "consents",
    "groups",
    "devices",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mcnet.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mcnet.middleware.RequestContextMiddleware",
    "mcnet.middleware.IdleTimeoutMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mcnet.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mcnet.urls"
WSGI_APPLICATION = "mcnet.wsgi.application"
ASGI_APPLICATION = "mcnet.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mcnet.context_processors.network",
                "mcnet.context_processors.inbox",
            ],
        },
    },
]

# PostgreSQL (psycopg 3) in production and CI; the embedded SQLite file for the demo.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'mcnet.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        # Redis down is a cache miss, not a 500 (issue 9; mcnet/cache.py).
        "default": {"BACKEND": "mcnet.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "facilities.User"
AUTHENTICATION_BACKENDS = [
    "facilities.backends.PortalModelBackend",
    "facilities.backends.PortalAllauthBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous is denied outright

# Art. 11 (3): 8+ characters, letters and digits mixed; plus Django's own checks.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name", "kana")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "mcnet.validators.LettersAndDigitsValidator"},
]

# Accounts: e-mail is the login and the MCS ID; no self sign-up (accounts come from
# invitations and the center).
ACCOUNT_ADAPTER = "facilities.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False  # art. 11 (4)(5): sessions end with the browser or when idle
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}
ACCOUNT_FORMS = {
    "login": "facilities.forms.LoginForm",
    "change_password": "facilities.forms.ChangePasswordForm",
    "set_password": "facilities.forms.SetPasswordForm",
    "reset_password": "facilities.forms.ResetPasswordForm",
    "reset_password_from_key": "facilities.forms.ResetPasswordKeyForm",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "MC Net"
# The guideline for medical information systems asks MFA of administrators; the demo turns it off.
MCNET_REQUIRE_MFA = env_bool("MCNET_REQUIRE_MFA", True)

SESSION_COOKIE_AGE = 15 * 60  # overridden per request by the network's idle timeout
# Not on every request: IdleTimeoutMiddleware moves the expiry on at most once a minute, so a
# page view is not also a write (issue 9: the session UPDATE was a ninth query on every page).
SESSION_SAVE_EVERY_REQUEST = False
# With Redis, sessions are read from the cache and written through to the database, so a page
# view does not read the session table (with Redis down they are read from the database).
# Without it (the demo) they stay in the database: a per-process memory cache would keep a
# session that another process ended.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "ja"
# Each language is named in itself, so a reader of either can find theirs.
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# Uploads (signed scans, photos, generated PDFs) hold personal data: never served under a
# public URL; views stream them after a permission check.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "MC ネット <no-reply@mcnet.example.jp>")

# Celery: tasks are queued on commit, acknowledged late, bounded in time (ARCHITECTURE.md).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
CELERY_TASK_ROUTES = {"*.render_*": {"queue": "pdf"}}
CELERY_BEAT_SCHEDULE: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Links in e-mails point here.
MCNET_BASE_URL = env("MCNET_BASE_URL", "http://127.0.0.1:8000")
CELERY_BEAT_SCHEDULE["redeliver-unsent-notifications"] = {
    "task": "mcnet.tasks.redeliver_unsent_notifications",
    "schedule": 600.0,
}
# groups (issue 5): retention (別紙6), review and archive reminders (留意事項 1, 2), invitations.
CELERY_BEAT_SCHEDULE["groups-erase-expired-personal-data"] = {
    "task": "groups.tasks.erase_expired_personal_data",
    "schedule": 24 * 3600.0,
}
CELERY_BEAT_SCHEDULE["groups-send-reminders"] = {
    "task": "groups.tasks.send_group_reminders",
    "schedule": 6 * 3600.0,
}
CELERY_BEAT_SCHEDULE["groups-expire-invitations"] = {
    "task": "groups.tasks.expire_invitations",
    "schedule": 3600.0,
}
# Printed forms (issue 7): queue again what a dead worker or a down broker left, purge old PDFs.
CELERY_BEAT_SCHEDULE["documents-requeue-stalled"] = {
    "task": "mcnet.printing.tasks.requeue_stalled_documents",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["documents-purge-old"] = {
    "task": "mcnet.printing.tasks.purge_old_documents",
    "schedule": 24 * 3600.0,
}
# devices (issue 6): take-outs past their period, device checklists overdue (art. 12 (9), 12).
CELERY_BEAT_SCHEDULE["devices-remind-overdue-takeouts"] = {
    "task": "devices.tasks.remind_overdue_takeouts",
    "schedule": 24 * 3600.0,
}
CELERY_BEAT_SCHEDULE["devices-remind-overdue-device-checks"] = {
    "task": "devices.tasks.remind_overdue_device_checks",
    "schedule": 24 * 3600.0,
}
# Reminders (issue 7): reviews coming due, pledges and education, invitations, dormant accounts.
CELERY_BEAT_SCHEDULE["reminders-send"] = {
    "task": "mcnet.reminders.tasks.send_reminders",
    "schedule": 6 * 3600.0,
}
# enrollment (issue 4): applicants' mails whose publish failed; unconfirmed applications purged.
CELERY_BEAT_SCHEDULE["enrollment-redeliver-application-mails"] = {
    "task": "enrollment.tasks.redeliver_unsent_application_mails",
    "schedule": 600.0,
}
CELERY_BEAT_SCHEDULE["enrollment-purge-unconfirmed-applications"] = {
    "task": "enrollment.tasks.purge_unconfirmed_applications",
    "schedule": 24 * 3600.0,
}
# The center's dashboard (issue 9): its figures computed ahead of the clerks, every
# FIGURES_EVERY (mcnet/dashboard/selectors.py; fresh for two runs, so one late run costs no
# one a wait). A run still queued when the next is due is dropped rather than run twice.
CELERY_BEAT_SCHEDULE["dashboard-refresh-figures"] = {
    "task": "mcnet.dashboard.tasks.refresh_dashboard_figures",
    "schedule": 300.0,
    "options": {"expires": 300},
}
