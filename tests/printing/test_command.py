"""python manage.py render_form CODE (--sample | --id ID | --blank) --output PATH"""

import pytest
from django.core.management import CommandError, call_command

from consents.models import Consent
from enrollment.models import RosterRequest
from facilities.models import Facility
from mcnet.printing import registry

from . import pdf


@pytest.mark.parametrize("code", registry.FORM_CODES)
def test_every_form_with_sample_data(db, tmp_path, code):
    out = tmp_path / f"{code}.pdf"
    call_command("render_form", code, "--sample", "--output", str(out))
    content = out.read_bytes()
    assert content.startswith(b"%PDF") and pdf.font_problems(content) == []


def test_by_id_prints_the_paper_or_the_object_named(demo, tmp_path):
    roster = RosterRequest.objects.get(facility__name="ABCクリニック")
    out = tmp_path / "roster.pdf"
    call_command("render_form", "besshi3", "--id", str(roster.pk), "-o", str(out))
    assert "kasugayama@abc.example.jp" in pdf.text(out.read_bytes())

    takada = Facility.objects.get(name="高田訪問看護ステーション")
    call_command(
        "render_form",
        "besshi3",
        "--id",
        str(takada.pk),
        "--model",
        "facilities.Facility",
        "-o",
        str(out),
    )
    assert "nurse@takada.example.jp" in pdf.text(out.read_bytes())

    consent = Consent.objects.get(patient__name="山田太郎", status="active")
    call_command("render_form", "besshi7", "--id", str(consent.pk), "-o", str(out))
    pages = pdf.pages(out.read_bytes())
    assert len(pages) == 2 and all("山田太郎" in page for page in pages)


def test_blank_form(db, tmp_path):
    out = tmp_path / "blank.pdf"
    call_command("render_form", "besshi1", "--blank", "-o", str(out))
    assert "令和" in pdf.text(out.read_bytes())


def test_errors_are_plain(db, tmp_path):
    with pytest.raises(CommandError, match=r"no facilities\.Facility with id"):
        call_command(
            "render_form",
            "besshi1",
            "--id",
            "999999",
            "--model",
            "facilities.Facility",
            "-o",
            str(tmp_path / "x.pdf"),
        )
    with pytest.raises(CommandError, match="not printed for"):
        call_command("render_form", "besshi5", "--id", "1", "-o", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError):
        call_command("render_form", "besshi9", "--sample", "-o", str(tmp_path / "x.pdf"))
