"""The audit viewer (issue 8): the center searches and exports the trail; an MCS administrator
reads the part about their facility and its staff (see selectors.py for exactly which)."""
