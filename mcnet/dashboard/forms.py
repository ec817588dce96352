"""The dashboard's filters and the report form; every error names its field in Japanese."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mcnet.forms import JapaneseDateField

from .exports import FORMATS, REPORTS, Period
from .selectors import parse_month

MAX_REPORT_DAYS = 366 * 10


class FacilityFilter(forms.Form):
    facility = forms.IntegerField(label=_("事業所ID"), required=False, min_value=1)


class ReviewListForm(FacilityFilter):
    state = forms.ChoiceField(
        label=_("精査の状況"),
        required=False,
        choices=[
            ("", ""),
            ("all", _("すべて")),
            ("ok", _("期限内")),
            ("due", _("期限間近")),
            ("overdue", _("期限切れ")),
        ],
    )
    done = forms.ChoiceField(
        label=_("実施した精査"),
        required=False,
        choices=[("", ""), ("on_time", _("期限内に実施")), ("late", _("期限後に実施"))],
    )

    def clean(self):
        data = super().clean()
        if not data.get("state") and not data.get("done"):
            data["state"] = "all"
        return data


class StaffGapForm(FacilityFilter):
    gap = forms.ChoiceField(
        label=_("不足しているもの"),
        choices=[("pledge", _("誓約書")), ("education", _("今年度の教育"))],
    )


class ConsentListForm(forms.Form):
    what = forms.ChoiceField(
        label=_("件数の種類"),
        choices=[("recorded", _("記録された同意書")), ("withdrawn", _("撤回"))],
    )
    month = forms.CharField(label=_("月（YYYY-MM）"), max_length=7)
    until = forms.CharField(label=_("終わりの月（YYYY-MM）"), max_length=7, required=False)

    def clean_month(self):
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("月は「2026-04」の形で入力してください。"))
        return month

    def clean_until(self):
        value = self.cleaned_data.get("until")
        if not value:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError(_("終わりの月は「2026-04」の形で入力してください。"))
        return month

    def clean(self):
        data = super().clean()
        first, last = data.get("month"), data.get("until")
        if first and last and last.start < first.start:
            self.add_error("until", _("終わりの月は始めの月より後にしてください。"))
        return data


def _fiscal_year_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """Last 年度 (April to March): what a yearly report usually covers."""
    year = today.year if today.month >= 4 else today.year - 1
    return dt.date(year - 1, 4, 1), dt.date(year, 3, 31)


class ReportForm(forms.Form):
    report = forms.ChoiceField(label=_("出力する内容"), choices=list(REPORTS.items()))
    date_from = JapaneseDateField(label=_("期間（開始日）"), picker=True)
    date_to = JapaneseDateField(label=_("期間（終了日）"), picker=True)
    format = forms.ChoiceField(
        label=_("形式"), choices=list(FORMATS.items()), widget=forms.RadioSelect, initial="xlsx"
    )

    @classmethod
    def initial_values(cls) -> dict:
        first, last = _fiscal_year_bounds(timezone.localdate())
        return {"date_from": first, "date_to": last, "format": "xlsx", "report": "facilities"}

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last:
            if last < first:
                self.add_error("date_to", _("終了日は開始日と同じか、それより後にしてください。"))
            elif (last - first).days > MAX_REPORT_DAYS:
                self.add_error("date_to", _("期間は10年以内にしてください。"))
            else:
                data["period"] = Period(first, last)
        return data
