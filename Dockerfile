# syntax=docker/dockerfile:1
# One image for web, worker, beat and migrate; docker-compose.yml picks the command.
# An exact version: a rebuild gets the same interpreter (tests/test_deployment.py).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=mcnet.settings.production \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/var/static

# Pango for WeasyPrint; IPAex Mincho/Gothic because a missing Japanese font prints tofu
# silently, then IPAmj Mincho and Noto CJK for the names IPAex lacks (𠮷, 人名用 variants);
# libharfbuzz-subset0 makes CJK subsetting ~6x faster; gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-ipaexfont-mincho fonts-ipaexfont-gothic fonts-ipamj-mincho fonts-noto-cjk \
        fontconfig \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext \
    && rm -rf /var/lib/apt/lists/* \
    && fc-cache -f

RUN groupadd --system --gid 10001 mcnet \
    && useradd --system --uid 10001 --gid mcnet --create-home --home-dir /home/mcnet \
        --shell /usr/sbin/nologin mcnet

# Dependencies first so code edits reuse this layer. packages = [] in pyproject.toml: this
# installs only the locked dependencies (requirements.lock, hashed); the code runs from /app.
COPY requirements.lock /tmp/build/
RUN python -m venv /opt/venv \
    && pip install --require-hashes --no-deps -r /tmp/build/requirements.lock \
    && rm -rf /tmp/build

WORKDIR /app
# Code stays root-owned: the app user can read it but not change it.
COPY . .

# Dummy key only for these build steps (production settings refuse short or "insecure" keys);
# the real one comes from the environment at run time. media and beat (beat's schedule) are
# created owned by mcnet so an empty named volume mounted there starts out writable by the app
# user.
RUN SECRET_KEY=build-only-dummy-key-not-used-at-runtime-0123456789abcdefghij \
        REDIS_URL=redis://build-only-not-contacted:6379/1 \
        python manage.py collectstatic --noinput \
    && if [ -d locale ]; then \
        SECRET_KEY=build-only-dummy-key-not-used-at-runtime-0123456789abcdefghij \
        REDIS_URL=redis://build-only-not-contacted:6379/1 \
        python manage.py compilemessages; \
    fi \
    && mkdir -p /app/var/media /app/var/beat \
    && chown mcnet:mcnet /app/var/media /app/var/beat

USER mcnet
EXPOSE 8000

CMD ["gunicorn", "mcnet.wsgi:application", "-b", "0.0.0.0:8000", "--workers", "3", \
     "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
