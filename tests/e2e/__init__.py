"""Browser tests (Playwright + Debian Chromium); every test here is marked `e2e`."""
