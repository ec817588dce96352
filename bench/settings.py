"""Settings for `make bench`: production-like (DEBUG off, real PostgreSQL and Redis), with one
extra URL, /bench/minimal, the ceiling against which the group list's throughput is measured.

DATABASE_URL defaults to the bench's own database so a benchmark never touches real data.
"""

import os

from bench import DEFAULT_DATABASE_URL

os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)

from mcnet.settings.base import *  # noqa: F403
from mcnet.settings.base import env, env_bool

SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdefghijklmnop"  # noqa: S105
DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# Sessions for the generated users are made directly in the session table (no MFA dance).
MCNET_REQUIRE_MFA = env_bool("MCNET_REQUIRE_MFA", False)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
# The generator gives every user one precomputed hash of this password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "bench-media"  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
