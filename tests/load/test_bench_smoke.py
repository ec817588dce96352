"""`make bench` end to end at a tiny scale, so a model change that breaks the generator or the
runner shows in CI rather than on the day someone measures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.load


def test_generate_and_measure_a_tiny_network(db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the bench runs on PostgreSQL: set DATABASE_URL (CI does)")
    db_settings = connection.settings_dict
    name = f"mcnet_bench_ci_{os.getpid()}"
    url = (
        f"postgres://{db_settings['USER']}@{db_settings['HOST'] or '127.0.0.1'}:"
        f"{db_settings['PORT'] or 5432}/{name}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }
    env.pop("REDIS_URL", None)
    output = tmp_path / "results.json"
    try:
        subprocess.run(
            [sys.executable, "-m", "bench.generate", "--scale", "0.001"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "bench.run", "--only", "pages,roster,audit",
             "--requests", "3", "--output", str(output)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        subprocess.run(
            ["psql", "-h", db_settings["HOST"] or "127.0.0.1", "-U", db_settings["USER"],
             "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
            capture_output=True, check=False,
        )  # fmt: skip
    results = json.loads(output.read_text())
    counts = results["dataset"]["counts"]
    assert counts["facilities"] == 20 and counts["groups"] == 1001
    assert counts["memberships"] == 1000 * 5 + 50  # bench-user's 50 groups on top
    assert results["audit"]["intact"] is True  # the generated chain is a real one
    pages = {p["key"]: p for p in results["pages"]}
    for key in ("home", "group_list", "group_page", "staff_list", "admin_users"):
        assert pages[key]["status"] == "ok", pages[key]
    assert "home (user in 50 groups)" in run.stdout  # the table is printed
