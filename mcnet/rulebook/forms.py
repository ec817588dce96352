"""The form a version of the rules is published with (第15条; a facility's own, 第14条)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mcnet.forms import JapaneseDateField

from . import text
from .models import NETWORK_DOCUMENTS


class RuleTextForm(forms.Form):
    source = forms.CharField(
        label=_("本文"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "rule-source"}),
        help_text=_(
            "1行に1つずつ書きます。行の始まりで種類が決まります: 「# 見出し」「（目的）」"
            "「第１条　本文」「（１）　号」「２　項」「・箇条」、それ以外は段落です。"
            "{ネットワーク名}{対象地域}{運営}{センター名} はネットワーク設定の値に置き換わります。"
            "HTMLは使えません（書いたとおりの文字で表示されます）。"
        ),
    )
    approved_on = JapaneseDateField(label=_("承認日"), picker=True)
    effective_on = JapaneseDateField(label=_("施行日"), picker=True)
    summary = forms.CharField(label=_("改定の概要"), max_length=300, required=False)

    def clean_source(self):
        source = self.cleaned_data["source"]
        self.blocks = text.parse(source)  # a ValidationError names the line
        return source

    def clean(self):
        data = super().clean()
        approved, effective = data.get("approved_on"), data.get("effective_on")
        if approved and approved > timezone.localdate():
            self.add_error("approved_on", _("承認日に未来の日付は入力できません。"))
        if approved and effective and effective < approved:
            self.add_error("effective_on", _("施行日は承認日以降の日付にしてください。"))
        return data


class RulePublishForm(RuleTextForm):
    """第15条: the council discussed it and the 医師会 approved it; the center records it."""

    approved_on = JapaneseDateField(label=_("上越医師会の承認日"), picker=True)
    confirm = forms.BooleanField(
        label=_(
            "運営会議で協議され、医師会の承認を得た内容であることを確認しました（第15条）。"
            "登録した版は変更できません。"
        )
    )
    field_order = ("source", "summary", "approved_on", "effective_on", "confirm")


def network_document_or_none(value: str):
    return value if value in NETWORK_DOCUMENTS else None
