"""`manage.py import_roster PATH --facility ID [--dry-run]`: a 別紙3 sheet for the center's clerk.

Prints each row's errors as `row N, column: message`; exits with status 1 and writes nothing
when any row is invalid; otherwise creates the request (or, with --dry-run, only reports).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from enrollment import services
from enrollment.models import RosterRequest
from enrollment.rows import MAX_ROWS, check_roster_rows
from enrollment.spreadsheets import MAX_FILE_BYTES, SpreadsheetError, read_roster_file
from facilities.models import Facility


class Command(BaseCommand):
    help = "別紙3（一括登録代行申込書）の xlsx / CSV を読み込み、申込を作成します。"

    def add_arguments(self, parser):
        parser.add_argument("path", help="別紙3 の .xlsx または .csv（UTF-8 / Shift_JIS）")
        parser.add_argument("--facility", type=int, required=True, help="事業所のID")
        parser.add_argument("--dry-run", action="store_true", help="確認だけして、何も保存しない")
        parser.add_argument("--representative", default="", help="代表者名（省略時は事業所管理者）")

    def handle(self, *args, path, facility, dry_run, representative, **options):
        translation.activate("ja")
        target = Facility.objects.filter(pk=facility).first()
        if target is None:
            raise CommandError(f"facility {facility} does not exist")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            if file.stat().st_size > MAX_FILE_BYTES:  # not even read
                raise SpreadsheetError(
                    _("ファイルが大きすぎます（上限 %(mb)d MB）。")
                    % {"mb": MAX_FILE_BYTES // 1024 // 1024}
                )
            sheet = read_roster_file(file.read_bytes(), max_rows=MAX_ROWS)
        except SpreadsheetError as exc:
            raise CommandError(f"{path}: {exc}") from exc

        check = check_roster_rows(sheet.rows)
        for error in check.errors:
            self.stderr.write(error.for_console())
        for warning in check.warnings:
            self.stdout.write(f"warning: {warning}")
        valid = len([r for r in check.rows if not r.errors])
        self.stdout.write(
            f"{target.name}: {len(check.rows)} rows read, {valid} valid, {len(check.errors)} errors"
        )
        if not check.is_valid:
            self.stderr.write("nothing was saved: correct the rows above and run again")
            raise SystemExit(1)
        if dry_run:
            self.stdout.write("dry run: nothing was saved")
            return
        try:
            request = services.roster_submit(
                actor=None,
                facility=target,
                rows=sheet.rows,
                source=RosterRequest.Source.COMMAND,
                representative_name=representative,
            )
        except services.RowsInvalid as exc:  # another submission took an address meanwhile
            for error in exc.check.errors:
                self.stderr.write(error.for_console())
            self.stderr.write("nothing was saved")
            raise SystemExit(1) from exc
        self.stdout.write(
            self.style.SUCCESS(f"created roster request {request.pk} ({len(check.rows)} rows)")
        )
