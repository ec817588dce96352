"""The load generator's users (run by bench/loadrun.py; `locust -f bench/locustfile.py`).

BENCH_PATHS: comma-separated paths each user requests in turn, without pause (closed loop);
BENCH_PATH_MODE: how a user walks them: `cycle` (every user from the first, the default),
  `stagger` (user n from the n-th, so the users of a mixed workload or of a group's page are
  not all on the same page at once) or `one` (user n requests the n-th path only: 32 users on
  32 different patients' pages);
BENCH_SESSIONS: session keys, one per user in turn (signed-in pages), empty for anonymous;
BENCH_EXPECT_STATUS: the status every answer must have (anything else is a failure).
"""

import itertools
import os

from locust import FastHttpUser, constant, task

PATHS = [p for p in os.environ.get("BENCH_PATHS", "/bench/minimal").split(",") if p]
PATH_MODE = os.environ.get("BENCH_PATH_MODE", "cycle")
SESSIONS = [s for s in os.environ.get("BENCH_SESSIONS", "").split(",") if s]
EXPECT_STATUS = int(os.environ.get("BENCH_EXPECT_STATUS", "200"))
_numbers = itertools.count()


def _kind(path: str) -> str:
    """The statistics' name: the path without its numbers and query (one line per page kind,
    not one per group)."""
    return "".join("N" if c.isdigit() else c for c in path.split("?", 1)[0])


class PortalUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        number = next(_numbers)
        self.cookie = (
            {"Cookie": f"sessionid={SESSIONS[number % len(SESSIONS)]}"} if SESSIONS else {}
        )
        if PATH_MODE == "one":
            self.paths = itertools.repeat(PATHS[number % len(PATHS)])
        elif PATH_MODE == "stagger":
            start = number % len(PATHS)
            self.paths = itertools.cycle(PATHS[start:] + PATHS[:start])
        else:
            self.paths = itertools.cycle(PATHS)

    @task
    def page(self):
        path = next(self.paths)
        with self.client.get(
            path, headers=self.cookie, catch_response=True, allow_redirects=False, name=_kind(path)
        ) as response:
            if response.status_code != EXPECT_STATUS:
                response.failure(f"status {response.status_code}")
            else:
                response.success()
