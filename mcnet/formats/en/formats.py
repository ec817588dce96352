"""English dates for English pages (the Japanese ones are in ../ja/formats.py)."""

DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y H:i"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, Y H:i"
