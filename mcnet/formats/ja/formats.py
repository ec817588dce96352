"""Dates as the portal has always shown them in Japanese (Django's own ja formats differ in
the short and date-time forms): templates name the format (DATE_FORMAT), never a pattern,
so English pages get English dates."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATE_FORMAT = "Y/n/j"
SHORT_DATETIME_FORMAT = "Y/n/j H:i"
