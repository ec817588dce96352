"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def _async_unsafe_allowed():
    """Playwright's sync API marks an event loop as running in this thread for as long as
    the browser is open; Django would refuse the ORM calls the tests make meanwhile
    (load_demo, activate_totp, the database flush). Allowed only while tests/e2e runs: set for
    the whole session, the variable leaks into `manage.py check --deploy` subprocesses of
    other tests, which then fail with async.E001."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser(_async_unsafe_allowed):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def second_page(browser):
    """Another person's browser (a phone), side by side with the first."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 375, "height": 740})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def no_broker(monkeypatch):
    """The page's publish succeeds without a broker (the test renders the queued document)."""
    monkeypatch.setattr("mcnet.printing.services.enqueue", lambda task, *args: True)


@pytest.fixture(scope="session")
def _live_server_media_url():
    """settings.MEDIA_URL is None on purpose (uploads are never served under a URL), but the
    live server wraps the site in Django's _MediaFilesHandler, which parses MEDIA_URL when its
    thread starts and then fails on every request when it is None. Give it a prefix no page
    links to, only while the server starts."""
    from django.test import override_settings

    media_url = override_settings(MEDIA_URL="/__e2e-media-not-served__/")
    media_url.enable()
    state = {"enabled": True}

    def restore():
        if state["enabled"]:
            media_url.disable()
            state["enabled"] = False

    yield restore
    restore()


@pytest.fixture(scope="session")
def live_server(_live_server_media_url, live_server):
    _live_server_media_url()  # the server's handler has read MEDIA_URL by now
    return live_server


@pytest.fixture
def demo_live(_async_unsafe_allowed, live_server, transactional_db):
    """The demo network behind a live server; returns the server's base URL."""
    from mcnet.demo import load_demo

    load_demo()
    return live_server.url
