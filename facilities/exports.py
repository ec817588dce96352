"""The center's exports of facilities and users: xlsx (openpyxl) and CSV for Excel.

CSV is UTF-8 with a byte-order mark, which is how Excel on Windows recognises UTF-8 (without
it, Japanese text opens as mojibake). Rows are built with a fixed number of queries.
"""

import csv
import io

from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .models import FacilityMembership, FacilityRole

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Role = FacilityRole.Role


def _local(value) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def facility_table(queryset) -> tuple[list[str], list[list]]:
    header = [
        _("ID"),
        _("事業所名"),
        _("施設の種類"),
        _("郵便番号"),
        _("都道府県"),
        _("市区町村"),
        _("町域"),
        _("番地・建物名"),
        _("電話番号"),
        _("FAX番号"),
        _("事業所管理者氏名"),
        _("事業所管理者メールアドレス"),
        _("状態"),
        _("状態の変更日時"),
        _("MCS管理者の人数"),
        _("MCS管理者"),
        _("在籍職員数"),
    ]
    facilities = (
        queryset.annotate(
            export_admins=Count("roles", filter=Q(roles__role=Role.MCS_ADMIN), distinct=True),
            export_staff=Count("memberships", filter=Q(memberships__is_active=True), distinct=True),
        )
        .prefetch_related(
            Prefetch(
                "roles",
                queryset=FacilityRole.objects.filter(role=Role.MCS_ADMIN).select_related("user"),
                to_attr="export_admin_rows",
            )
        )
        .order_by("name", "pk")
    )
    rows = [
        [
            f.pk,
            f.name,
            f.get_kind_display(),
            f.postal_code,
            f.prefecture,
            f.city,
            f.town,
            f.address_line,
            f.phone,
            f.fax,
            f.manager_name,
            f.manager_email,
            f.get_state_display(),
            _local(f.state_changed_at),
            f.export_admins,
            "、".join(r.user.name or r.user.email for r in f.export_admin_rows),
            f.export_staff,
        ]
        for f in facilities
    ]
    return header, rows


def user_table(queryset) -> tuple[list[str], list[list]]:
    header = [
        _("ID"),
        _("メールアドレス（MCS ID）"),
        _("氏名"),
        _("ふりがな"),
        _("性別"),
        _("職種"),
        _("電話番号"),
        _("状態"),
        _("ログインできる"),
        _("所属事業所"),
        _("役割"),
        _("MCS登録済み（別紙3 *2）"),
        _("最終ログイン"),
        _("登録日時"),
    ]
    users = queryset.prefetch_related(
        Prefetch(
            "memberships",
            queryset=FacilityMembership.objects.filter(is_active=True).select_related("facility"),
            to_attr="export_memberships",
        ),
        Prefetch(
            "facility_roles",
            queryset=FacilityRole.objects.select_related("facility"),
            to_attr="export_roles",
        ),
    ).order_by("kana", "pk")
    rows = [
        [
            u.pk,
            u.email,
            u.name,
            u.kana,
            u.get_gender_display(),
            u.get_occupation_display(),
            u.phone,
            u.get_state_display(),
            _("はい") if u.is_active else _("いいえ"),
            "、".join(m.facility.name for m in u.export_memberships),
            "、".join(f"{r.facility.name}: {r.get_role_display()}" for r in u.export_roles),
            _("はい") if u.had_mcs_account else _("いいえ"),
            _local(u.last_login),
            _local(u.date_joined),
        ]
        for u in users
    ]
    return header, rows


def csv_response(filename: str, header: list, rows: list) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_csv_safe(v) for v in row] for row in rows)
    response = HttpResponse(
        ("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(filename: str, sheet_title: str, header: list, rows: list) -> HttpResponse:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # a name typed as "=..." stays text, never a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for index, title in enumerate(header, start=1):
        width = max([len(str(title)) * 2, *(len(str(r[index - 1])) for r in rows[:200])] or [8])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 50)
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


def _csv_safe(value):
    """Excel runs a cell starting with = + - @ as a formula: such text gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
