"""The one-command demo (`make run`): SQLite, eager Celery, mail to the console, no MFA."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env, env_bool

DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Eager mode only here: the demo needs no broker or worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "memory://")
MCNET_REQUIRE_MFA = env_bool("MCNET_REQUIRE_MFA", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

(BASE_DIR / "var").mkdir(exist_ok=True)  # the embedded SQLite file lives here

# Whitenoise serves from the finders here; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
