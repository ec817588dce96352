"""Measure the portal on the bench data set; write bench/results.json and print the table.

    python -m bench.run [--requests 30] [--load-seconds 20] [--only pages,throughput,...]

What is measured, against the targets:
- pages: server time (median, p95) over N requests after a warm-up, timed around Django's
  test client in this process (the WSGI handler and every middleware; no network), and the
  number of SQL queries of one request (CaptureQueriesContext). Target: ≤ 8 queries and
  ≤ 100 ms median.
- throughput: home, the group list, a group's page and a working day's mix of them under
  locust (closed loop, loopback) against gunicorn, each as a ratio to /bench/minimal on the
  same gunicorn in the same run. Targets: ≥ 0.5 each, ≥ 0.4 for the mix. And 32 users each on
  a different patient's group page (each writes an access-log event) as a ratio to the same
  users on the group list: ≥ 0.8.
- pdf: each printed form's warm render time (median) and PDFs per second with N processes.
- roster: 別紙3 validation of 1,000 rows.
- sweep: the periodic reminder sweep over every group (first run, then a repeat, which must
  send nothing new); rolled back afterwards so runs stay comparable. Target: < 10 s.
- audit: `verify_audit` over the whole chain (no target; reported).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

from bench import DEFAULT_DATABASE_URL

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)

RESULTS = Path(__file__).with_name("results.json")
MAX_QUERIES = 8
MAX_MEDIAN_MS = 100.0
# The center dashboard on a cache miss (its figures recomputed): under this, at full scale.
MAX_COLD_MS = 200.0
MIN_THROUGHPUT_RATIO = 0.5
MAX_SWEEP_S = 10.0
PAGE_BUDGET_S = 60.0  # a slow page is timed at least 5 times, then until this has passed
NOT_BUILT = "not built"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _url(name_candidates, kwargs=None) -> str | None:
    from django.urls import NoReverseMatch, reverse

    for name in name_candidates:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


# --- pages --------------------------------------------------------------------------------------


def _pages(known: dict) -> list[dict]:
    """The pages people use most, with who asks and the URL names to try."""
    from bench.generate import BENCH_ADMIN, BENCH_CENTER, BENCH_USER

    group_pk = known["bench_group"]
    return [
        {"key": "home", "label": "home (user in 50 groups)", "as": BENCH_USER, "names": ["home"]},
        {
            "key": "group_list",
            "label": "group list (user in 50 groups)",
            "as": BENCH_USER,
            "names": ["groups:list"],
        },
        {
            "key": "group_page",
            "label": "a group's page",
            "as": BENCH_USER,
            "names": ["groups:detail"],
            "kwargs": {"pk": group_pk},
        },
        {
            "key": "directory_search",
            "label": "directory search",
            "as": BENCH_USER,
            "names": ["facilities:directory"],
            "query": {"q": "佐藤"},
        },
        {
            "key": "staff_list",
            "label": "MCS administrator's staff list (200 staff)",
            "as": BENCH_ADMIN,
            "names": ["facilities:staff"],
            "kwargs": {"pk": 1},
        },
        {
            "key": "center_dashboard",
            "label": "center dashboard",
            "as": BENCH_CENTER,
            "names": ["dashboard:index"],
            # Its figures are cached a few minutes: the cache-miss time is measured too.
            "forget": "mcnet.dashboard.selectors.forget_figures",
        },
        {
            "key": "center_groups",
            "label": "center: groups overview",
            "as": BENCH_CENTER,
            "names": ["groups:center"],
        },
        {
            "key": "center_devices",
            "label": "center: devices overview",
            "as": BENCH_CENTER,
            "names": ["devices:center_overview"],
        },
        {
            "key": "admin_users",
            "label": "admin change list: users",
            "as": BENCH_CENTER,
            "names": ["admin:facilities_user_changelist"],
        },
        {
            "key": "admin_groups",
            "label": "admin change list: groups",
            "as": BENCH_CENTER,
            "names": ["admin:groups_group_changelist"],
        },
    ]


def _is_transaction_control(query: dict) -> bool:
    return query["sql"].split(" ", 1)[0].upper() in {
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
    }


COLD_REQUESTS = 5  # a page whose figures are cached is also timed on a cache miss, this often


def _measure_cold(client, url: str, query: dict, forget) -> dict:
    """The same page on a cache miss (`forget` empties the page's own cache entries first):
    the median stays the warm figure, and this one is reported beside it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(COLD_REQUESTS):
        forget()
        started = time.perf_counter()
        client.get(url, query)
        times.append((time.perf_counter() - started) * 1000)
    forget()
    with CaptureQueriesContext(connection) as captured:
        client.get(url, query)
    queries = [q for q in captured.captured_queries if not _is_transaction_control(q)]
    return {
        "cold_requests": len(times),
        "cold_median_ms": round(statistics.median(times), 1),
        "cold_queries": len(queries),
        "cold_sql": [q["sql"] for q in queries],
    }


def measure_pages(known: dict, requests: int, keys: list[str] | None = None) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils.module_loading import import_string

    from facilities.models import User

    results = []
    clients: dict[str, Client] = {}
    for page in _pages(known):
        if keys and page["key"] not in keys:
            continue
        row = {"key": page["key"], "label": page["label"]}
        url = _url(page["names"], page.get("kwargs"))
        if url is None:
            results.append({**row, "status": NOT_BUILT})
            continue
        client = clients.get(page["as"])
        if client is None:
            client = clients[page["as"]] = Client()
            client.force_login(User.objects.get(email=page["as"]))
        query = page.get("query") or {}
        row["url"] = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        try:
            for _ in range(3):  # warm: templates compiled, caches filled, connection open
                response = client.get(url, query)
            if response.status_code != 200:
                results.append({**row, "status": f"HTTP {response.status_code}"})
                continue
            times = []
            budget = time.monotonic() + PAGE_BUDGET_S
            for _ in range(requests):  # at least 5, then as many as fit in the time budget
                started = time.perf_counter()
                client.get(url, query)
                times.append((time.perf_counter() - started) * 1000)
                if len(times) >= 5 and time.monotonic() > budget:
                    break
            with CaptureQueriesContext(connection) as captured:
                client.get(url, query)
            # Transaction control (BEGIN, COMMIT, SAVEPOINT…) is not a query.
            queries = [q for q in captured.captured_queries if not _is_transaction_control(q)]
            row.update(
                status="ok",
                requests=len(times),
                median_ms=round(statistics.median(times), 1),
                p95_ms=round(_percentile(times, 0.95), 1),
                queries=len(queries),
                sql=[q["sql"][:300] for q in queries],
            )
            row["meets_target"] = (
                row["queries"] <= MAX_QUERIES and row["median_ms"] <= MAX_MEDIAN_MS
            )
            if page.get("forget"):
                row.update(_measure_cold(client, url, query, import_string(page["forget"])))
        except Exception as exc:
            row.update(status=f"error: {exc.__class__.__name__}: {exc}"[:300])
            traceback.print_exc()
        log(f"page {page['key']}: {row.get('median_ms')} ms, {row.get('queries')} queries")
        results.append(row)
    return results


# --- throughput -----------------------------------------------------------------------------------


# The pages people use most, each against the minimal view on the same gunicorn in the same
# run, and a working day's mix of them (bench/README.md): of every ten pages, three homes,
# three group lists, three groups' pages (a different group each time) and one directory
# search.
WORKDAY_MIX = (("home", 3), ("group_list", 3), ("group_page", 3), ("directory_search", 1))
MIN_MIXED_RATIO = 0.4
# The access log under concurrency: this many users each on a different patient's page (each
# view writes its access-log event), against the same users on the group list.
AUDIT_CHAIN_USERS = 32
MIN_AUDIT_CHAIN_RATIO = 0.8


def _throughput_paths(known: dict) -> dict | None:
    """Each measured page's paths: the group page cycles over bench-user's working groups."""
    from urllib.parse import urlencode

    paths = {
        "home": _url(["home"]),
        "group_list": _url(["groups:list"]),
        "directory_search": _url(["facilities:directory"]),
    }
    if None in paths.values() or not known["bench_groups"]:
        return None
    paths["directory_search"] += "?" + urlencode({"q": "佐藤"})
    groups = [_url(["groups:detail"], {"pk": pk}) for pk in known["bench_groups"]]
    paths = {key: [path] for key, path in paths.items()}
    paths["group_page"] = groups
    # The mix, spelled out long enough that its group pages walk every group in turn.
    mixed, turn = [], 0
    for _ in range(len(groups)):
        for key, count in WORKDAY_MIX:
            for _ in range(count):
                if key == "group_page":
                    mixed.append(groups[turn % len(groups)])
                    turn += 1
                else:
                    mixed.append(paths[key][0])
    paths["mixed"] = mixed
    return paths


def measure_throughput(
    known: dict, seconds: int, users: int, workers: int, only: list[str] | None = None
) -> dict:
    """Requests per second of each page under `users` closed-loop users, as a ratio to the
    minimal view; then the access log's chain under AUDIT_CHAIN_USERS users. One gunicorn, one
    run: the ratios compare what shares the same machine at the same time. `only` (run keys,
    e.g. group_page) measures those runs and the runs they are a ratio to."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.generate import BENCH_USER
    from bench.loadrun import Gunicorn, run_locust
    from facilities.models import User
    from mcnet.models import AuditEvent, AuditPending

    paths = _throughput_paths(known)
    if paths is None:
        return {"status": NOT_BUILT}
    # What the run writes (the sign-ins' events, the group pages' access records, appended
    # without the chain and not sealed here: no beat runs) is removed afterwards.
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_pending = AuditPending.objects.order_by("-pk").values_list("pk", flat=True).first()
    user = User.objects.get(email=BENCH_USER)
    sessions = []
    for _ in range(max(users, AUDIT_CHAIN_USERS)):  # one session per simulated user
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    if len(paths["group_page"]) < AUDIT_CHAIN_USERS:
        return {"status": f"bench-user has fewer than {AUDIT_CHAIN_USERS} working groups"}
    # (key, paths, how each user walks them, users, the run it is a ratio to, target)
    runs = [
        ("minimal", ["/bench/minimal"], "cycle", users, None, None),
        ("home", paths["home"], "cycle", users, "minimal", MIN_THROUGHPUT_RATIO),
        ("group_list", paths["group_list"], "cycle", users, "minimal", MIN_THROUGHPUT_RATIO),
        ("group_page", paths["group_page"], "stagger", users, "minimal", MIN_THROUGHPUT_RATIO),
        ("directory_search", paths["directory_search"], "cycle", users, "minimal", None),
        ("mixed", paths["mixed"], "stagger", users, "minimal", MIN_MIXED_RATIO),
        ("chain_group_list", paths["group_list"], "cycle", AUDIT_CHAIN_USERS, None, None),
        (
            "chain_group_page",
            paths["group_page"][:AUDIT_CHAIN_USERS],
            "one",
            AUDIT_CHAIN_USERS,
            "chain_group_list",
            MIN_AUDIT_CHAIN_RATIO,
        ),
    ]
    if only:
        wanted = set(only) | {base for key, *_, base, _target in runs if key in only}
        runs = [run for run in runs if run[0] in wanted]
    result = {
        "users": users,
        "seconds": seconds,
        "gunicorn_workers": workers,
        "mix": dict(WORKDAY_MIX),
        "chain_users": AUDIT_CHAIN_USERS,
        "runs": {},
    }
    try:
        with Gunicorn(env, workers=workers) as server:
            for key, run_paths, mode, run_users, base, target in runs:
                common = {"sessions": sessions, "path_mode": mode, "users": run_users}
                run_locust(server.url, run_paths, seconds=3, **common)  # warm
                before = _access_log_ids()
                load = run_locust(server.url, run_paths, seconds=seconds, **common)
                row = result["runs"][key] = {**load.as_dict(), "users": run_users}
                if key == "chain_group_page":
                    row["access_log"] = _access_log_since(before)
                if base is not None:
                    base_rps = result["runs"][base]["rps"]
                    row.update(
                        ratio_to=base,
                        ratio=round(load.rps / base_rps, 3) if base_rps else 0.0,
                        target=target,
                    )
                    if target is not None:
                        row["meets_target"] = (
                            (row["ratio"] >= target or _off_the_chain(row))
                            and load.failures == 0
                            and result["runs"][base]["failures"] == 0
                        )
                log(
                    f"throughput {key}: {load.rps} req/s, {load.failures} failures"
                    + (f", ratio {row['ratio']}" if "ratio" in row else "")
                )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mcnet_auditevent WHERE id > %s", [last_event or 0])
            cursor.execute("DELETE FROM mcnet_auditpending WHERE id > %s", [last_pending or 0])
    targets = [row["meets_target"] for row in result["runs"].values() if "meets_target" in row]
    result.update(status="ok", meets_target=all(targets))
    # The figure of earlier runs (results.json readers): the group list against minimal.
    if "group_list" in result["runs"]:
        result["ratio"] = result["runs"]["group_list"]["ratio"]
    return result


# --- printed forms ------------------------------------------------------------------------------


def _render_one(code: str) -> int:
    from mcnet.printing import registry, renderer

    spec = registry.get(code)
    return len(renderer.render_pdf(spec.template, spec.sample_context()))


def _render_many(args) -> int:
    codes, count = args
    import django

    django.setup()
    for i in range(count):
        _render_one(codes[i % len(codes)])
    return count


def measure_pdf(renders: int, worker_counts: tuple[int, ...], documents: int = 80) -> dict:
    try:
        from mcnet.printing import registry, renderer  # noqa: F401
    except ImportError:
        return {"status": NOT_BUILT}
    import multiprocessing

    from django.db import connections

    codes = list(registry.registry())
    forms = {}
    for code in codes:
        _render_one(code)  # warm: fonts loaded, templates compiled
        times = []
        for _ in range(renders):
            started = time.perf_counter()
            size = _render_one(code)
            times.append((time.perf_counter() - started) * 1000)
        forms[code] = {"median_ms": round(statistics.median(times), 1), "bytes": size}
        log(f"pdf {code}: {forms[code]['median_ms']} ms")
    per_second = {}
    per_worker = max(4, renders)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    for workers in worker_counts:
        with context.Pool(workers) as pool:
            pool.map(_render_many, [(codes, 1)] * workers)  # warm each process
            started = time.perf_counter()
            done = sum(pool.map(_render_many, [(codes, per_worker)] * workers))
            elapsed = time.perf_counter() - started
        per_second[str(workers)] = round(done / elapsed, 2)
        log(f"pdf throughput with {workers} processes: {per_second[str(workers)]} PDFs/s")
    result = {"status": "ok", "forms": forms, "pdfs_per_second": per_second}
    try:
        result["celery"] = measure_pdf_celery(documents, worker_counts)
    except Exception as exc:
        traceback.print_exc()
        result["celery"] = {"status": f"error: {exc.__class__.__name__}: {exc}"[:300]}
    return result


# Forms filled from a facility (the "PDF" buttons of its page, views.request_for): every
# (form, facility) pair is a new document. Samples would not do: the same data gives the same
# document (idempotency key), rendered once, so there are only as many as forms.
CELERY_FORMS = ("besshi1", "besshi2", "besshi3", "besshi4")
CELERY_WAIT_S = 300.0
# The documents of a run go in this many rounds, each rendered by the plain processes and then
# through Celery: on a busy machine both see the same moments.
CELERY_ROUNDS = 4
# Through Celery, at least this share of what as many plain processes make of the same
# documents: the queue, the claim, the file and the row may cost a fifth, no more.
MIN_PDF_CELERY_RATIO = 0.8


def _render_contexts(args) -> int:
    """Render (template, context) pairs in turn, `count` of them, in a plain process."""
    jobs, count = args
    import django

    django.setup()
    from mcnet.printing import renderer

    for i in range(count):
        template, context = jobs[i % len(jobs)]
        renderer.render_pdf(template, context)
    return count


def _plain_seconds(pool, jobs: list, processes: int) -> float:
    """Seconds `processes` plain processes (`pool`, warm) take to render `jobs`, each once,
    split between them."""
    per_process = [jobs[i::processes] for i in range(processes)]
    started = time.perf_counter()
    pool.map(_render_contexts, [(part, len(part)) for part in per_process])
    return time.perf_counter() - started


def _contexts_of(actor, facilities: list[int]) -> list[tuple[str, dict]]:
    """(template, data) of the documents `_request_and_wait` will ask for: what the rows store
    (JSON) and the task renders."""
    from mcnet.printing import registry, selectors

    jobs = []
    for i, facility_id in enumerate(facilities):
        spec = registry.get(CELERY_FORMS[i % len(CELERY_FORMS)])
        target, obj = selectors.printable_object(
            actor, spec.code, facility_id, model="facilities.Facility"
        )
        jobs.append((spec.template, json.loads(json.dumps(spec.object_context(target, obj)))))
    return jobs


def _start_pdf_workers(count: int, log_path: Path) -> list:
    """`count` workers on the "pdf" queue, as tests/worker.py starts one: solo pool, one task at
    a time, prefetch 1 (the setting), on the bench settings, database and broker."""
    import subprocess

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    workers = []
    with log_path.open("ab") as out:  # each worker keeps its own copy of the file
        for i in range(count):
            command = [sys.executable, "-m", "celery", "-A", "mcnet", "worker", "-Q", "pdf",
                       "-n", f"bench-pdf-{i}@%h", "--pool", "solo", "--concurrency", "1",
                       "--prefetch-multiplier", "1", "--without-heartbeat", "--without-gossip",
                       "--without-mingle", "-l", "warning"]  # fmt: skip
            workers.append(
                subprocess.Popen(  # noqa: S603 — our own interpreter and fixed arguments
                    command,
                    cwd=Path(__file__).resolve().parents[1],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def _stop_workers(workers: list) -> None:
    import subprocess

    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def _request_and_wait(actor, facilities: list[int]) -> tuple[float, dict]:
    """Ask for one form per facility (forms in turn) through the view's path, then poll the
    rows until none is queued or rendering. Returns the seconds the requests took (inside the
    measured time: the portal does this work too) and the count per final state."""
    from django.db.models import Count

    from mcnet.models import GeneratedDocument
    from mcnet.printing import selectors, services

    State = GeneratedDocument.State
    ids = []
    started = time.perf_counter()
    for i, facility_id in enumerate(facilities):
        code = CELERY_FORMS[i % len(CELERY_FORMS)]
        target, obj = selectors.printable_object(
            actor, code, facility_id, model="facilities.Facility"
        )
        document = services.document_request_for(actor=actor, code=code, target=target, obj=obj)
        ids.append(document.pk)
    requested_s = time.perf_counter() - started
    deadline = time.monotonic() + CELERY_WAIT_S
    pending = GeneratedDocument.objects.filter(
        pk__in=ids, state__in=[State.QUEUED, State.RENDERING]
    )
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    rows = GeneratedDocument.objects.filter(pk__in=ids).order_by().values("state")
    rows = rows.annotate(n=Count("pk"))
    return requested_s, {row["state"]: row["n"] for row in rows}


def measure_pdf_celery(documents: int, worker_counts: tuple[int, ...]) -> dict:
    """PDFs per second through the portal's path: services.document_request_for as the center
    (audit event, row, publish on commit), real workers on the bench broker, until the rows are
    ready. Everything it wrote is deleted afterwards."""
    import multiprocessing
    import tempfile

    from django.contrib.auth import get_user_model
    from django.db import connection, connections

    from bench.generate import BENCH_CENTER
    from facilities.models import Facility
    from mcnet.celery import app
    from mcnet.models import AuditEvent, GeneratedDocument

    actor = get_user_model().objects.get(email=BENCH_CENTER)
    last_document = GeneratedDocument.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    # Facilities nobody has printed for, so every request makes a new document.
    needed = sum(2 * n + documents for n in worker_counts)
    facilities = list(
        Facility.objects.exclude(
            pk__in=GeneratedDocument.objects.filter(object_id__isnull=False).values("object_id")
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:needed]
    )
    if len(facilities) < needed:
        return {"status": f"only {len(facilities)} facilities without documents"}
    log_path = Path(tempfile.gettempdir()) / f"bench-pdf-workers-{os.getpid()}.log"
    result = {
        "status": "ok",
        "documents": documents,
        "forms": list(CELERY_FORMS),
        "workers": "N celery workers, solo pool, concurrency 1 each",
        "pdfs_per_second": {},
        "plain_pdfs_per_second": {},
        "ratio": {},
        "min_ratio": MIN_PDF_CELERY_RATIO,
        "failed": {},
        "seconds": {},
        "requests_s": {},
        "worker_log": str(log_path),
    }
    workers = []
    try:
        for count in worker_counts:
            workers = _start_pdf_workers(count, log_path)
            deadline = time.monotonic() + 60
            while len(app.control.ping(timeout=1.0)) < count:
                if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                    raise RuntimeError(f"{count} workers did not answer; see {log_path}")
            warm, facilities = facilities[: 2 * count], facilities[2 * count :]
            _request_and_wait(actor, warm)  # fonts loaded, templates compiled in each worker
            # The same documents by as many plain processes, round by round just before the
            # workers get them (the machine's other load drifts: both see the same).
            connections.close_all()
            pool = multiprocessing.get_context("fork").Pool(count)
            try:
                pool.map(_render_contexts, [(_contexts_of(actor, warm), 1)] * count)
                plain_s = elapsed = requested_s = 0.0
                ready = 0
                for round_ in range(CELERY_ROUNDS):
                    size = documents // CELERY_ROUNDS + (round_ < documents % CELERY_ROUNDS)
                    batch, facilities = facilities[:size], facilities[size:]
                    jobs = _contexts_of(actor, batch)
                    connections.close_all()
                    plain_s += _plain_seconds(pool, jobs, count)
                    started = time.perf_counter()
                    round_requested_s, states = _request_and_wait(actor, batch)
                    elapsed += time.perf_counter() - started
                    requested_s += round_requested_s
                    ready += states.get(GeneratedDocument.State.READY, 0)
            finally:
                pool.terminate()
                pool.join()
            plain = documents / plain_s
            result["pdfs_per_second"][str(count)] = round(ready / elapsed, 2)
            result["plain_pdfs_per_second"][str(count)] = round(plain, 2)
            result["ratio"][str(count)] = round(ready / elapsed / plain, 3)
            result["failed"][str(count)] = documents - ready
            result["seconds"][str(count)] = round(elapsed, 2)
            result["requests_s"][str(count)] = round(requested_s, 2)
            log(
                f"pdf through celery with {count} workers: {ready} of {documents} ready in "
                f"{elapsed:.1f} s, {result['pdfs_per_second'][str(count)]} PDFs/s; the same "
                f"documents by {count} plain processes {plain:.2f} PDFs/s, ratio "
                f"{result['ratio'][str(count)]}"
            )
            _stop_workers(workers)
            workers = []
    finally:
        _stop_workers(workers)
        with app.connection_for_write() as conn:  # what a stopped run left queued
            conn.default_channel.queue_purge("pdf")
        for document in GeneratedDocument.objects.filter(pk__gt=last_document or 0):
            if document.file:
                document.file.storage.delete(document.file.name)
            document.delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mcnet_auditevent WHERE id > %s", [last_event or 0])
    return result


# --- 別紙3 validation ------------------------------------------------------------------------------


def measure_roster(rows_count: int = 1000) -> dict:
    try:
        from enrollment import rows as roster_rows
    except ImportError:
        return {"status": NOT_BUILT}
    check = getattr(roster_rows, "check_roster_rows", None) or getattr(
        roster_rows, "validate_roster_rows", None
    )
    if check is None:
        return {"status": NOT_BUILT}
    from facilities.models import Facility

    facility = Facility.objects.order_by("pk").first()
    rows = [
        {
            "name": f"上越 太郎{i}",
            "gender": "男" if i % 2 else "女",
            "occupation": ["看護師", "介護支援専門員", "医師", "ヘルパー"][i % 4],
            # a tenth are already in use, as a real roster has: the set-based lookup matters
            "email": f"user{i * 37 + 300}@f2.example.jp" if i % 10 == 0 else f"new{i}@example.jp",
            "is_mcs_admin": "〇" if i == 0 else "",
            "had_mcs_account": "" if i % 3 else "〇",
        }
        for i in range(rows_count)
    ]
    _call_check(check, rows, facility)  # warm
    times = []
    for _ in range(5):
        started = time.perf_counter()
        result = _call_check(check, rows, facility)
        times.append((time.perf_counter() - started) * 1000)
    errors = getattr(result, "errors", None)
    return {
        "status": "ok",
        "rows": rows_count,
        "median_ms": round(statistics.median(times), 1),
        "errors_found": len(errors) if errors is not None else None,
        "function": f"enrollment.rows.{check.__name__}",
    }


def _call_check(check, rows, facility):
    import inspect

    params = inspect.signature(check).parameters
    kwargs = {}
    if "facility" in params:
        kwargs["facility"] = facility
    return check(rows, **kwargs)


# --- the periodic sweep -----------------------------------------------------------------------------


def _sweep_child() -> int:
    """The sweep itself, in a child process the runner can stop after SWEEP_TIMEOUT_S."""
    import django

    django.setup()
    from groups import services as group_services

    out = {}
    started = time.perf_counter()
    out["first_run_sent"] = group_services.reminders_send()
    out["first_run_s"] = round(time.perf_counter() - started, 2)
    print(json.dumps(out), flush=True)
    started = time.perf_counter()
    out["repeat_run_sent"] = group_services.reminders_send()
    out["repeat_run_s"] = round(time.perf_counter() - started, 2)
    print(json.dumps(out), flush=True)
    # The other periodic job (beat): reviews coming due, pledges and education, invitations,
    # dormant accounts. The same way: a first run, then a repeat that must send nothing new.
    from groups import jobs as reminder_jobs

    for run in ("first", "repeat"):
        started = time.perf_counter()
        out[f"reminders_{run}_run_sent"] = reminder_jobs.send_reminders()
        out[f"reminders_{run}_run_s"] = round(time.perf_counter() - started, 2)
        print(json.dumps(out), flush=True)
    return 0


def measure_sweep(timeout: float) -> dict:
    import subprocess

    try:
        from groups import services as group_services
    except ImportError:
        return {"status": NOT_BUILT}
    if getattr(group_services, "reminders_send", None) is None:
        return {"status": NOT_BUILT}
    from django.db import connection

    from groups.models import Group
    from mcnet.celery import app
    from mcnet.models import AuditEvent, Notification

    result = {"groups": Group.objects.count(), "function": "groups.services.reminders_send"}
    last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    # As beat runs it (its own transaction, mails queued on commit to the real broker), then
    # once more, which must send nothing new (dedupe keys). In a child process, so a sweep
    # that takes too long is stopped (its transaction rolls back) and reported as such.
    lines = []
    try:
        child = subprocess.run(
            [sys.executable, "-m", "bench.run", "--sweep-child"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0:
            result["error"] = child.stderr[-1500:]
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        lines = [line for line in out.splitlines() if line.startswith("{")]
        result["timed_out_after_s"] = timeout
    finally:
        # Undo what it wrote, so every run of the bench sees the same backlog.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mcnet_notification WHERE id > %s", [last_notification or 0])
            cursor.execute("DELETE FROM mcnet_auditevent WHERE id > %s", [last_event or 0])
        app.control.purge()  # the queued mails: no worker reads the bench broker
    if lines:
        result.update(json.loads(lines[-1]))
    first, repeat = result.get("first_run_s"), result.get("repeat_run_s")
    result["status"] = "ok"
    result["meets_target"] = (
        first is not None and repeat is not None and first < MAX_SWEEP_S and repeat < MAX_SWEEP_S
    )
    log(f"sweep: {first} s first, {repeat} s repeat")
    result["reminders_function"] = "groups.jobs.send_reminders"
    first, repeat = result.get("reminders_first_run_s"), result.get("reminders_repeat_run_s")
    result["reminders_meets_target"] = (
        first is not None and repeat is not None and first < MAX_SWEEP_S and repeat < MAX_SWEEP_S
    )
    log(f"reminders job: {first} s first, {repeat} s repeat")
    return result


def measure_audit() -> dict:
    from mcnet.audit import verify_chain
    from mcnet.models import AuditEvent

    started = time.perf_counter()
    broken = verify_chain()
    return {
        "status": "ok",
        "events": AuditEvent.objects.count(),
        "intact": broken is None,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _access_log_ids() -> tuple[int, int]:
    from mcnet.models import AuditEvent, AuditPending

    return tuple(
        model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (AuditEvent, AuditPending)
    )


def _access_log_since(before: tuple[int, int]) -> dict:
    """Where the run's access records went: onto the chain (under its lock) or appended."""
    from mcnet.audit import AuditAction
    from mcnet.models import AuditEvent, AuditPending

    view = AuditAction.PATIENT_VIEW.value
    return {
        "chained": AuditEvent.objects.filter(pk__gt=before[0], action=view).count(),
        "appended": AuditPending.objects.filter(pk__gt=before[1], action=view).count(),
    }


def _off_the_chain(row: dict) -> bool:
    """The issue's alternative to the ratio: the access log no longer waits for the single
    chain's lock (appended, sealed into the chain by a periodic job)."""
    log_counts = row.get("access_log") or {}
    return log_counts.get("chained") == 0 and log_counts.get("appended", 0) > 0


# --- the table -----------------------------------------------------------------------------------


THROUGHPUT_LABELS = {
    "minimal": "minimal view (/bench/minimal)",
    "home": "home",
    "group_list": "group list",
    "group_page": "a group's page (50 groups in turn)",
    "directory_search": "directory search",
    "mixed": "a working day's mix",
    "chain_group_list": f"group list, {AUDIT_CHAIN_USERS} users",
    "chain_group_page": f"group pages, {AUDIT_CHAIN_USERS} users, one patient each",
}


def _mark(ok) -> str:
    return "" if ok is None else ("ok" if ok else "MISSED")


def table(results: dict) -> str:
    lines = []
    data = results.get("dataset") or {}
    counts = data.get("counts", {})
    lines.append(
        f"MC Net bench — scale {data.get('scale')}: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    lines.append(f"machine: {results['machine']}")
    lines.append("")
    lines.append(f"{'page':<46} {'median':>9} {'p95':>9} {'queries':>8}  target")
    for row in results.get("pages", []):
        if row["status"] != "ok":
            lines.append(f"{row['label']:<46} {row['status']:>28}")
            continue
        notes = []
        if row["queries"] > MAX_QUERIES:
            notes.append(f"> {MAX_QUERIES} queries")
        if row["median_ms"] > MAX_MEDIAN_MS:
            notes.append(f"> {MAX_MEDIAN_MS:.0f} ms")
        lines.append(
            f"{row['label']:<46} {row['median_ms']:>7.1f}ms {row['p95_ms']:>7.1f}ms "
            f"{row['queries']:>8}  {_mark(row['meets_target'])} {'; '.join(notes)}"
        )
        if "cold_median_ms" in row:  # the figures above are with the page's cache warm
            cold_ok = row["cold_median_ms"] < MAX_COLD_MS
            lines.append(
                f"{'  … on a cache miss':<46} {row['cold_median_ms']:>7.1f}ms {'':>9} "
                f"{row['cold_queries']:>8}  {_mark(cold_ok)}"
                + ("" if cold_ok else f" ≥ {MAX_COLD_MS:.0f} ms")
                + f" (median of {row['cold_requests']})"
            )
    lines.append("")
    tp = results.get("throughput", {})
    if "throughput" not in results:
        pass
    elif tp.get("status") == "ok":
        lines.append(
            f"throughput (locust, {tp['users']} users, {tp['seconds']} s each, gunicorn "
            f"{tp['gunicorn_workers']} workers, one run; mix "
            + ", ".join(f"{k} {v}" for k, v in tp["mix"].items())
            + ")"
        )
        lines.append(f"{'':<4}{'load':<42} {'req/s':>9} {'ratio':>9} {'failures':>8}  target")
        for key, row in tp["runs"].items():
            label = THROUGHPUT_LABELS.get(key, key)
            ratio = f"{row['ratio']:.2f}" if "ratio" in row else ""
            target = (
                f"≥ {row['target']} of {row['ratio_to']} {_mark(row['meets_target'])}"
                if row.get("target") is not None
                else ""
            )
            lines.append(
                f"{'':<4}{label:<42} {row['rps']:>9.1f} {ratio:>9} {row['failures']:>8}  {target}"
            )
            if "access_log" in row:
                lines.append(
                    f"{'':<8}access records: {row['access_log']['appended']:,} appended off the"
                    f" chain, {row['access_log']['chained']:,} through its lock"
                    + (" (off the chain: the alternative target)" if _off_the_chain(row) else "")
                )
    else:
        lines.append(f"throughput: {tp.get('status')}")
    pdf = results.get("pdf", {})
    if "pdf" not in results:
        pass
    elif pdf.get("status") == "ok":
        forms = ", ".join(f"{k} {v['median_ms']:.0f} ms" for k, v in pdf["forms"].items())
        rates = ", ".join(f"{k} proc {v} PDFs/s" for k, v in pdf["pdfs_per_second"].items())
        lines.append(f"PDF warm render (median): {forms}")
        lines.append(f"PDFs per second: {rates}")
        celery = pdf.get("celery", {})
        if celery.get("status") == "ok":
            rates = ", ".join(
                f"{k} workers {v} PDFs/s ({celery['failed'][k]} failed)"
                for k, v in celery["pdfs_per_second"].items()
            )
            lines.append(
                f"PDFs per second through Celery ({celery['documents']} requests): {rates}"
            )
            ratios = ", ".join(
                f"{k} workers {celery['pdfs_per_second'][k]} / {k} plain "
                f"{celery['plain_pdfs_per_second'][k]} = {v:.2f} "
                f"{_mark(v >= celery['min_ratio'] and celery['failed'][k] == 0)}"
                for k, v in celery["ratio"].items()
            )
            lines.append(
                f"Celery / plain, same documents (target ≥ {celery['min_ratio']}): {ratios}"
            )
        elif celery:
            lines.append(f"PDFs through Celery: {celery.get('status')}")
    else:
        lines.append(f"PDF: {pdf.get('status')}")
    roster = results.get("roster", {})
    if "roster" not in results:
        pass
    elif roster.get("status") == "ok":
        lines.append(
            f"別紙3 validation of {roster['rows']} rows: {roster['median_ms']:.0f} ms (median)"
        )
    else:
        lines.append(f"別紙3 validation: {roster.get('status')}")
    sweep = results.get("sweep", {})
    if "sweep" not in results:
        pass
    elif sweep.get("status") == "ok" and sweep.get("repeat_run_s") is None:
        lines.append(
            f"reminder sweep over {sweep['groups']:,} groups: first run "
            f"{sweep.get('first_run_s', 'unfinished')} s, stopped after "
            f"{sweep.get('timed_out_after_s')} s; target < {MAX_SWEEP_S:.0f} s MISSED"
        )
    elif sweep.get("status") == "ok":
        lines.append(
            f"reminder sweep over {sweep['groups']:,} groups: first run {sweep['first_run_s']} s "
            f"(sent {sweep['first_run_sent']}), repeat {sweep['repeat_run_s']} s "
            f"(sent {sweep['repeat_run_sent']}); target < {MAX_SWEEP_S:.0f} s "
            f"{_mark(sweep['meets_target'])}"
        )
    else:
        lines.append(f"reminder sweep: {sweep.get('status')}")
    if sweep.get("status") == "ok" and "reminders_meets_target" in sweep:
        lines.append(
            f"reminders job (groups.jobs): first run "
            f"{sweep.get('reminders_first_run_s', 'unfinished')} s "
            f"(sent {sweep.get('reminders_first_run_sent')}), repeat "
            f"{sweep.get('reminders_repeat_run_s', 'unfinished')} s "
            f"(sent {sweep.get('reminders_repeat_run_sent')}); target < {MAX_SWEEP_S:.0f} s "
            f"{_mark(sweep['reminders_meets_target'])}"
        )
    audit = results.get("audit", {})
    if audit.get("status") == "ok":
        lines.append(
            f"verify_audit: {audit['events']:,} events, "
            f"{'intact' if audit['intact'] else 'BROKEN'}, {audit['seconds']} s"
        )
    return "\n".join(lines)


def _machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure the portal on the bench data set.")
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 30)))
    parser.add_argument(
        "--load-seconds",
        "--seconds",
        type=int,
        default=int(os.environ.get("BENCH_LOAD_SECONDS", 20)),
        help="seconds each throughput load is measured (after 3 s of warm-up)",
    )
    parser.add_argument(
        "--load-users", type=int, default=int(os.environ.get("BENCH_LOAD_USERS", 16))
    )
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_GUNICORN_WORKERS", 3))
    )
    parser.add_argument("--pdf-renders", type=int, default=5)
    parser.add_argument("--pdf-documents", type=int, default=80, help="per Celery run")
    parser.add_argument(
        "--only", default="pages,throughput,pdf,roster,sweep,audit", help="comma-separated parts"
    )
    parser.add_argument(
        "--pages",
        default="",
        help="comma-separated page keys (e.g. center_dashboard) or throughput runs (e.g."
        " group_page, measured with the runs it is a ratio to); all if empty",
    )
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--sweep-timeout", type=float, default=900)
    parser.add_argument("--sweep-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sweep_child:
        return _sweep_child()

    import django

    django.setup()
    from bench.generate import BENCH_USER, dataset_info
    from groups.models import Membership

    dataset = dataset_info()
    if dataset is None:
        sys.exit("no bench data set: run `python -m bench.generate` (make bench does)")
    # bench-user's working groups (accepted, not archived), in id order.
    bench_groups = list(
        Membership.objects.filter(user__email=BENCH_USER, state="accepted")
        .exclude(group__state="archived")
        .order_by("group_id")
        .values_list("group_id", flat=True)
    )
    known = {"bench_group": bench_groups[0] if bench_groups else None, "bench_groups": bench_groups}
    results = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": _machine(),
        "dataset": dataset,
        "targets": {
            "max_queries": MAX_QUERIES,
            "max_median_ms": MAX_MEDIAN_MS,
            "min_throughput_ratio": MIN_THROUGHPUT_RATIO,
            "min_mixed_ratio": MIN_MIXED_RATIO,
            "min_audit_chain_ratio": MIN_AUDIT_CHAIN_RATIO,
            "max_sweep_s": MAX_SWEEP_S,
        },
    }
    parts = args.only.split(",")
    steps = {
        "pages": lambda: measure_pages(
            known, args.requests, [k for k in args.pages.split(",") if k]
        ),
        "throughput": lambda: measure_throughput(
            known,
            args.load_seconds,
            args.load_users,
            args.workers,
            [k for k in args.pages.split(",") if k],
        ),
        "pdf": lambda: measure_pdf(args.pdf_renders, (1, 2), args.pdf_documents),
        "roster": measure_roster,
        "sweep": lambda: measure_sweep(args.sweep_timeout),
        "audit": measure_audit,
    }
    for part in parts:
        log(f"measuring {part}")
        try:
            results[part] = steps[part]()
        except Exception as exc:
            traceback.print_exc()
            results[part] = {"status": f"error: {exc.__class__.__name__}: {exc}"[:300]}
    Path(args.output).write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
