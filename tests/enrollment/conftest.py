"""Shared pieces of the enrollment tests."""

from pathlib import Path

import pytest
from openpyxl import Workbook

FIXTURES = Path(__file__).parent / "fixtures"
SEED_CSV = FIXTURES / "besshi3_example.csv"


def seed_table() -> list[list[str]]:
    """The seed's 別紙3 example, as the rows of the fixture CSV."""
    import csv

    with SEED_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def seed_xlsx_bytes() -> bytes:
    """The same example as an Excel workbook (generated here with openpyxl)."""
    import io

    workbook = Workbook()
    sheet = workbook.active
    for row in seed_table():
        sheet.append([cell or None for cell in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def send_mails(django_capture_on_commit_callbacks):
    """Run the applicant mails queued so far, as the worker would (the task body itself)."""
    from enrollment.models import ApplicationEvent
    from enrollment.tasks import send_application_mail

    def run():
        for pk in ApplicationEvent.objects.filter(mailed_at__isnull=True).values_list(
            "pk", flat=True
        ):
            send_application_mail(pk)

    return run
