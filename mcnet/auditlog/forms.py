"""The audit viewer's search form; every error names its field in Japanese."""

from django import forms
from django.utils.translation import gettext_lazy as _

from mcnet.forms import JapaneseDateField

from .selectors import AuditFilters


class AuditSearchForm(forms.Form):
    actor = forms.CharField(
        label=_("操作者（MCS ID・氏名・ふりがな）"), required=False, max_length=254
    )
    facility = forms.CharField(label=_("事業所（名称またはID）"), required=False, max_length=200)
    action = forms.CharField(
        label=_("操作"),
        required=False,
        max_length=64,
        help_text=_("例: patient.view（患者ページの閲覧）、patient（患者についてのすべての操作）"),
    )
    object_type = forms.CharField(
        label=_("対象の種類"),
        required=False,
        max_length=64,
        help_text=_("例: consents.patient、groups.group、facilities.user"),
    )
    object_id = forms.CharField(label=_("対象ID"), required=False, max_length=64)
    date_from = JapaneseDateField(label=_("期間（開始日）"), required=False, picker=True)
    date_to = JapaneseDateField(label=_("期間（終了日）"), required=False, picker=True)

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("終了日は開始日と同じか、それより後にしてください。"))
        return data

    def filters(self) -> AuditFilters:
        return AuditFilters(
            **{name: self.cleaned_data.get(name) or None for name in ("date_from", "date_to")},
            **{
                name: self.cleaned_data.get(name, "")
                for name in ("actor", "facility", "action", "object_type", "object_id")
            },
        )
