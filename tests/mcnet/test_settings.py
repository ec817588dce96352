"""Settings by environment, translations compiled, network settings read by pages."""

import os
import subprocess
import sys
from gettext import GNUTranslations
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mcnet.models import NetworkSettings

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="mcnet.settings.production",
        SECRET_KEY="k" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="portal.example.jp",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_run_without_a_shared_cache():
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="mcnet.settings.production",
        SECRET_KEY="k" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="portal.example.jp",
        REDIS_URL="",
    )
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_production_refuses_the_development_secret_key():
    result = _manage("check", DJANGO_SETTINGS_MODULE="mcnet.settings.production", SECRET_KEY="")
    assert result.returncode != 0
    assert ImproperlyConfigured.__name__ in result.stderr


def test_time_zone_and_language():
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert settings.LANGUAGE_CODE == "ja"
    assert [code for code, _ in settings.LANGUAGES] == ["ja", "en"]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_locale_holds_both_languages_compiled(language, tmp_path):
    """The committed .mo says what the .po says (else: `make messages`)."""
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(folder / "django.po")], check=True)
    with (folder / "django.mo").open("rb") as committed, fresh.open("rb") as compiled:
        assert GNUTranslations(committed)._catalog == GNUTranslations(compiled)._catalog


def test_english_catalog_is_complete():
    result = subprocess.run(
        [
            "msgfmt",
            "--statistics",
            "-o",
            "/dev/null",
            str(ROOT / "locale/en/LC_MESSAGES/django.po"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_english_is_selectable(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get(response.url).content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page
    assert client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja").status_code == 200


def test_pages_read_the_network_settings(client, db):
    network = NetworkSettings.load()
    network.center_phone = "025-000-0000"
    network.name = "テストネット"
    network.save()
    page = client.get("/accounts/login/").content.decode()
    assert "025-000-0000" in page
    assert "テストネット" in page


def test_network_settings_default_to_the_rules(db):
    network = NetworkSettings.load()
    assert (network.name, network.operator) == ("MC ネット", "上越医師会")
    assert (network.center_phone, network.center_fax) == ("025-520-7500", "025-520-8686")
    assert network.center_email == "aizawa@ganginet.jp"
    assert network.idle_timeout_minutes == 15


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [("redis://127.0.0.1:6379/1", "cached_db"), ("", "db")],
)
def test_sessions_are_cached_only_in_a_cache_every_process_shares(redis_url, engine):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
        DJANGO_SETTINGS_MODULE="mcnet.settings.dev",
        REDIS_URL=redis_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"django.contrib.sessions.backends.{engine}"


def _mail_settings(**env) -> str:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)",
        DJANGO_SETTINGS_MODULE="mcnet.settings.production",
        SECRET_KEY="k" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="portal.example.jp",
        REDIS_URL="redis://127.0.0.1:6379/1",
        **{"EMAIL_USE_TLS": "", "EMAIL_USE_SSL": "", **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell may print its auto-imports first


def test_production_mail_is_encrypted_by_default():
    assert _mail_settings() == "True False"  # STARTTLS
    assert _mail_settings(EMAIL_USE_SSL="true") == "False True"  # implicit TLS instead
    assert _mail_settings(EMAIL_USE_TLS="false") == "False False"  # an explicit choice


def test_each_xdist_worker_has_redis_databases_of_its_own():
    """make test's workers (mcnet/settings/test.py) never share a cache or a broker with each
    other or with the one-at-a-time pass."""
    from mcnet.settings.test import own_redis_databases

    def moved(cache: int, broker: int, workers=2) -> list[set[int]]:
        given = {
            "REDIS_URL": f"redis://h:6379/{cache}",
            "CELERY_BROKER_URL": f"redis://h:6379/{broker}",
        }
        each = [given] + [own_redis_databases(given, worker) for worker in range(workers)]
        return [{int(url.rsplit("/", 1)[1]) for url in urls.values()} for urls in each]

    assert moved(1, 0) == [{0, 1}, {2, 3}, {4, 5}]  # CI
    for cache, broker in ((6, 4), (5, 7), (3, 3)):
        sets = moved(cache, broker)
        assert all(len(s) == len(sets[0]) for s in sets)
        assert len(set().union(*sets)) == sum(len(s) for s in sets), sets  # none shared
    assert own_redis_databases({"CELERY_BROKER_URL": "memory://"}, 0) == {
        "CELERY_BROKER_URL": "memory://"
    }
    with pytest.raises(ValueError, match="past 15"):
        moved(1, 0, workers=8)
