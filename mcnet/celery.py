"""The Celery app: settings come from Django's (CELERY_*), tasks from each app's tasks.py."""

import os
from pathlib import Path

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcnet.settings.dev")

app = Celery("mcnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's liveness for docker's healthcheck (docker-compose.yml): a file the worker touches
# from its own event loop's timer, so it goes stale when the worker hangs, not only when it
# exits; checking its age costs nothing, unlike `celery inspect ping`, which starts a whole
# Celery process every minute. Set MCNET_WORKER_HEARTBEAT_FILE to turn it on.
HEARTBEAT_FILE = os.environ.get("MCNET_WORKER_HEARTBEAT_FILE", "")
HEARTBEAT_EVERY = float(os.environ.get("MCNET_WORKER_HEARTBEAT_SECONDS", "15"))


class WorkerHeartbeatFile(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.path = Path(HEARTBEAT_FILE) if HEARTBEAT_FILE else None
        self.tref = None

    def start(self, worker):
        if self.path is not None:
            self.touch()
            self.tref = worker.timer.call_repeatedly(HEARTBEAT_EVERY, self.touch, priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def touch(self):
        self.path.touch()


app.steps["worker"].add(WorkerHeartbeatFile)
