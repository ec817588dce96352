"""Settings shared by every environment; each environment overrides what differs.

Everything a deployment changes is read from the environment (see README, "Production").
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

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
# How many reverse proxies of our own stand in front of the portal, each appending the address
# it was connected from to X-Forwarded-For (mcnet.middleware.client_ip counts from the right).
# 0: the connecting address is the client's. Never more than there are: the entries beyond
# them are written by the client.
MCNET_TRUSTED_PROXIES = int(env("MCNET_TRUSTED_PROXIES", "0") or 0)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A refused form (a page left open too long, cookies blocked) explained in Japanese.
CSRF_FAILURE_VIEW = "mcnet.views.csrf_failure"

INSTALLED_APPS = [
    "mcnet",
    # The rules' versions (第15条): base layer, every app reads them.
    "mcnet.rulebook",
    "facilities",
    "enrollment",
    "consents",
    "groups",
    "devices",
    # Above the apps (docs: Layers): apps of their own inside mcnet/, without models.
    "mcnet.printing",
    "mcnet.dashboard",
    "mcnet.auditlog",
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
    "facilities.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the idle timeout and the messages: keeps a form posted after the session ended.
    "mcnet.keptforms.KeepFormMiddleware",
    "mcnet.submissions.SubmitOnceMiddleware",
    "mcnet.middleware.RequestBodyLimitMiddleware",
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
                "mcnet.context_processors.idle_timeout",
            ],
            # {% csrf_token %} also renders the form's one-time token (mcnet/submissions.py).
            "builtins": ["mcnet.templatetags.submission"],
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
        # Redis down is a cache miss, not a 500 (mcnet/cache.py).
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
# Counted per real client address (facilities.adapters.AccountAdapter.get_client_ip) and, for
# failed logins, per account separately: an attacker trying many accounts is stopped by the
# address limit without locking out anyone else behind the same proxy.
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
# page view is not also a write (the session UPDATE was a ninth query on every page).
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
# Date formats per language (mcnet/formats/<lang>/formats.py): templates use DATE_FORMAT etc.
FORMAT_MODULE_PATH = ["mcnet.formats"]
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
# A request body larger than this is refused (413) before it is read, unless its view takes
# more or less (mcnet.uploads.request_body_limit): the largest form is a 10 MB signed scan.
MCNET_MAX_REQUEST_BYTES = int(env("MCNET_MAX_REQUEST_BYTES", str(11 * 1024 * 1024)))
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
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acknowledged within this is handed out again: longer than every task's
    # hard time limit, or a long run is started twice while it still runs
    # (tests/mcnet/test_celery_settings.py). What a dead worker held comes back sooner through
    # the sweeps (documents, mails), not through this.
    "visibility_timeout": 3600,
    # Reading, not only connecting, is bounded: a hung (frozen) Redis accepts connections and
    # never answers; without these a publish from a web request waits forever.
    "socket_timeout": 1.0,
    "socket_connect_timeout": 1.0,
    # A publisher tries to connect once, not for CELERY_BROKER_CONNECTION_TIMEOUT seconds on
    # end: the caller has recorded the work, and a sweep queues it when the broker is back.
    # (The worker's own consumer connection retries by its own settings.)
    "max_retries": 0,
}
CELERY_TASK_ROUTES = {"*.render_*": {"queue": "pdf"}}
# Beat: jobs of a day run at fixed times (crontab, Asia/Tokyo), and beat keeps its schedule
# state in a file on a volume (docker-compose.yml), so a redeploy neither skips nor repeats
# them: a job missed while beat was down runs once when it is back. Only short sweeps are
# intervals (10 min at most): a restart delays them by one interval at most.
# tests/mcnet/test_celery_settings.py holds every entry to this.
CELERY_BEAT_SCHEDULE: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# メディカルケアステーション (MCS) itself: a lost device's owner changes the MCS password
# there (第12条(11)); the portal's own password is another one.
MCNET_MCS_URL = env("MCNET_MCS_URL", "https://www.medical-care.net/")

# Links in e-mails point here.
MCNET_BASE_URL = env("MCNET_BASE_URL", "http://127.0.0.1:8000")
# Outgoing mail (mcnet/outbox.py): every SMTP socket operation waits at most EMAIL_TIMEOUT; a
# sender's claim covers ONE message, so it outlasts the steps of sending one (9 × 5 s) with a
# margin, not a task; and an unsent message is queued again once 30 s old (at once after the
# broker lost its data; not while mail messages still wait in the queue) by one sweep for
# every kind of mail, every 20 s. A worker killed mid-send: its mail goes out within about
# a minute (the claim, then the next sweep).
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "5"))
MCNET_MAIL_CLAIM_SECONDS = 60
MCNET_MAIL_SWEEP_AFTER_SECONDS = 30
CELERY_BEAT_SCHEDULE["redeliver-unsent-mail"] = {
    "task": "mcnet.tasks.redeliver_unsent_mail",
    "schedule": 20.0,
    "options": {"expires": 20},  # a late sweep is not queued twice: the next one comes
}
# The access log of patient data is appended without the audit chain's lock and sealed into
# the chain by this job (mcnet/audit.py): a record is tamper-evident at most this long after
# it was written (plus one run). A run not started in time is dropped: the next one seals all.
ACCESS_LOG_SEAL_SECONDS = 10.0
CELERY_BEAT_SCHEDULE["audit-seal-access-log"] = {
    "task": "mcnet.tasks.seal_access_log",
    "schedule": ACCESS_LOG_SEAL_SECONDS,
    "options": {"expires": ACCESS_LOG_SEAL_SECONDS},
}
# Forms' one-time tokens (mcnet/submissions.py) are kept a day.
CELERY_BEAT_SCHEDULE["purge-form-submissions"] = {
    "task": "mcnet.tasks.purge_form_submissions",
    "schedule": crontab(hour=4, minute=40),
}
# groups: retention (別紙6), review and archive reminders (留意事項 1, 2), invitations.
CELERY_BEAT_SCHEDULE["groups-erase-expired-personal-data"] = {
    "task": "groups.tasks.erase_expired_personal_data",
    "schedule": crontab(hour=2, minute=30),
}
CELERY_BEAT_SCHEDULE["groups-send-reminders"] = {
    "task": "groups.tasks.send_group_reminders",
    "schedule": crontab(hour="2,8,14,20", minute=15),
}
# MCS has no API: overdue attestations that MCS matches the portal remind, once a day.
CELERY_BEAT_SCHEDULE["groups-send-attestation-reminders"] = {
    "task": "groups.tasks.send_attestation_reminders",
    "schedule": crontab(hour=8, minute=35),
}
CELERY_BEAT_SCHEDULE["groups-expire-invitations"] = {
    "task": "groups.tasks.expire_invitations",
    "schedule": crontab(minute=10),
}
# 別紙6 ご本人の照会: patients' requests past their due date remind the custodians.
CELERY_BEAT_SCHEDULE["consents-remind-overdue-patient-requests"] = {
    "task": "consents.tasks.remind_overdue_patient_requests",
    "schedule": crontab(hour="2,8,14,20", minute=25),
}
# Printed forms: queue again what a dead worker or a down broker left, purge old PDFs.
CELERY_BEAT_SCHEDULE["documents-requeue-stalled"] = {
    "task": "mcnet.printing.tasks.requeue_stalled_documents",
    # Often: a document whose worker died is queued again within half a minute
    # (mcnet/printing/services.py, CLAIM_LAPSES_AFTER); a run not started in time is dropped.
    "schedule": 20.0,
    "options": {"expires": 20},
}
CELERY_BEAT_SCHEDULE["documents-purge-old"] = {
    "task": "mcnet.printing.tasks.purge_old_documents",
    "schedule": crontab(hour=3, minute=0),
}
# devices: take-outs past their period, device checklists overdue (art. 12 (9), 12).
CELERY_BEAT_SCHEDULE["devices-remind-overdue-takeouts"] = {
    "task": "devices.tasks.remind_overdue_takeouts",
    "schedule": crontab(hour=8, minute=0),
}
CELERY_BEAT_SCHEDULE["devices-remind-overdue-device-checks"] = {
    "task": "devices.tasks.remind_overdue_device_checks",
    "schedule": crontab(hour=8, minute=5),
}
# 個人情報保護法 §26, 規則8条: leak reports' deadlines (速報, 確報), reminded once each.
CELERY_BEAT_SCHEDULE["devices-remind-leak-deadlines"] = {
    "task": "devices.tasks.remind_leak_deadlines",
    "schedule": crontab(hour="8,14", minute=10),
}
# Reminders (groups.jobs): reviews coming due (留意事項 1), pledges and education (第7条),
# invitations (第6条(4), 留意事項 4), dormant accounts (第6条(3)).
CELERY_BEAT_SCHEDULE["reminders-send"] = {
    "task": "mcnet.reminders.tasks.send_reminders",
    "schedule": crontab(hour="2,8,14,20", minute=20),
}
# enrollment (別紙1, 別紙2): unconfirmed applications purged (their mails: redeliver-unsent-mail).
# 第4条2: the portal's staff changes (別紙4 drafts) reach the center after the network's days.
CELERY_BEAT_SCHEDULE["enrollment-submit-overdue-change-notices"] = {
    "task": "enrollment.tasks.submit_overdue_change_notices",
    "schedule": crontab(hour=7, minute=50),
}
CELERY_BEAT_SCHEDULE["enrollment-purge-unconfirmed-applications"] = {
    "task": "enrollment.tasks.purge_unconfirmed_applications",
    "schedule": crontab(hour=3, minute=30),
}
# The center's dashboard: its figures computed ahead of the clerks, every
# FIGURES_EVERY (mcnet/dashboard/selectors.py; fresh for two runs, so one late run costs no
# one a wait). A run still queued when the next is due is dropped rather than run twice.
CELERY_BEAT_SCHEDULE["dashboard-refresh-figures"] = {
    "task": "mcnet.dashboard.tasks.refresh_dashboard_figures",
    "schedule": 300.0,
    "options": {"expires": 300},
}

# Covering indexes (INCLUDE) are PostgreSQL's; on SQLite, the embedded default of `make run`,
# the same index without its extra columns serves the demo, and the warning says nothing new.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
