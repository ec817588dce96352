"""The audit viewer (national guideline: the access log is reviewed): the center searches and
exports the trail; an MCS administrator reads the part about their facility and its staff (see
selectors.py for exactly which)."""
