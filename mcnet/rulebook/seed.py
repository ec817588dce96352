"""Version 1 of each network document: the rules in force since 2021-09-01 (附則), as the
repository ships them in texts/2021-09-01/ (copied from the network's original)."""

import datetime as dt
from pathlib import Path

from . import text

FIRST_DATE = dt.date(2021, 9, 1)
TEXTS = Path(__file__).resolve().parent / "texts" / FIRST_DATE.isoformat()
FIRST_DOCUMENTS = ("rules", "notes", "staff_pledge", "besshi2", "besshi5", "besshi6", "besshi7")


def first_blocks(document: str) -> list[dict]:
    return text.parse((TEXTS / f"{document}.txt").read_text(encoding="utf-8"))


def ensure_first_versions(model) -> int:
    """Create version 1 of each network document that has no version yet; returns how many.

    `model` is RuleVersion (or the migration's historical model). Safe to repeat."""
    created = 0
    for document in FIRST_DOCUMENTS:
        if model.objects.filter(document=document, facility__isnull=True).exists():
            continue
        model.objects.create(
            document=document,
            number=1,
            blocks=first_blocks(document),
            approved_on=FIRST_DATE,
            effective_on=FIRST_DATE,
            summary="制定（令和3年9月1日施行）",
        )
        created += 1
    return created
