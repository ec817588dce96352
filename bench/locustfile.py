"""The load generator's users (run by bench/loadrun.py; `locust -f bench/locustfile.py`).

BENCH_PATHS: comma-separated paths each user requests in turn, without pause (closed loop);
BENCH_SESSIONS: session keys, one per user in turn (signed-in pages), empty for anonymous;
BENCH_EXPECT_STATUS: the status every answer must have (anything else is a failure).
"""

import itertools
import os

from locust import FastHttpUser, constant, task

PATHS = [p for p in os.environ.get("BENCH_PATHS", "/bench/minimal").split(",") if p]
SESSIONS = [s for s in os.environ.get("BENCH_SESSIONS", "").split(",") if s]
EXPECT_STATUS = int(os.environ.get("BENCH_EXPECT_STATUS", "200"))
_numbers = itertools.count()


class PortalUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        number = next(_numbers)
        self.cookie = (
            {"Cookie": f"sessionid={SESSIONS[number % len(SESSIONS)]}"} if SESSIONS else {}
        )
        self.paths = itertools.cycle(PATHS)

    @task
    def page(self):
        path = next(self.paths)
        with self.client.get(
            path, headers=self.cookie, catch_response=True, allow_redirects=False, name=path
        ) as response:
            if response.status_code != EXPECT_STATUS:
                response.failure(f"status {response.status_code}")
            else:
                response.success()
