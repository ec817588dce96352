"""The dashboard's figures computed ahead of the clerks (beat: mcnet/settings/base.py), so no
view waits the second they take on the network's scale. It only calls the selector; a run is
safe to repeat or to skip (the next one, or a view, computes them)."""

from mcnet.jobs import job_task

from . import selectors


# Bounded well above the time one computation takes on the bench network (make bench: under
# a second, for every language at once).
@job_task(time_limit=120, soft_time_limit=100)
def refresh_dashboard_figures() -> list[str]:
    return selectors.refresh_figures()
