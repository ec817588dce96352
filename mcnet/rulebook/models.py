"""The network's rules and the texts of its forms, as versions the center publishes (第15条),
and a facility's own supplementary rules (第14条).

A version is never edited once published: a change is a new version with the council's
approval date and the date it takes effect. Pages and printed forms use the version in force
on their date; each agreement (pledges, 別紙2, 別紙3, consents) keeps the version it agreed to.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Document(models.TextChoices):
    RULES = "rules", _("運用規程")
    NOTES = "notes", _("利用上の留意事項")
    STAFF_PLEDGE = "staff_pledge", _("従事者誓約書（第7条）")
    BESSHI2 = "besshi2", _("連携守秘誓約書（別紙2）")
    BESSHI5 = "besshi5", _("ご利用者・ご家族様へ（別紙5）")
    BESSHI6 = "besshi6", _("個人情報保護基本方針（別紙6）")
    BESSHI7 = "besshi7", _("利用についての同意書（別紙7）")
    FACILITY_RULES = "facility_rules", _("事業所の定め（第14条）")


# The documents the center publishes (the facility's own rules are the facility's, 第14条).
NETWORK_DOCUMENTS = tuple(d for d in Document if d != Document.FACILITY_RULES)


class RuleVersion(models.Model):
    document = models.CharField(_("文書"), max_length=32, choices=Document.choices)
    # Set only for a facility's own rules (第14条); the network's documents have none.
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rule_versions",
        verbose_name=_("事業所"),
    )
    number = models.PositiveIntegerField(_("版"))
    blocks = models.JSONField(_("本文（構造化）"), default=list)
    # 第15条: discussed by the council and approved by the 医師会; for a facility's rules, the
    # day its manager decided them.
    approved_on = models.DateField(_("承認日"))
    effective_on = models.DateField(_("施行日"))
    summary = models.CharField(_("改定の概要"), max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登録した人"),
    )
    published_at = models.DateTimeField(_("登録日時"), default=timezone.now)

    class Meta:
        verbose_name = _("規程・様式の版")
        verbose_name_plural = _("規程・様式の版")
        ordering = ["document", "facility_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"],
                condition=Q(facility__isnull=True),
                name="rule_version_number_once",
            ),
            models.UniqueConstraint(
                fields=["document", "facility", "number"],
                condition=Q(facility__isnull=False),
                name="facility_rule_version_number_once",
            ),
            models.CheckConstraint(
                condition=Q(facility__isnull=True) | Q(document="facility_rules"),
                name="only_facility_rules_have_a_facility",
            ),
            models.CheckConstraint(
                condition=Q(effective_on__gte=models.F("approved_on")),
                name="rule_version_effective_after_approval",
            ),
        ]
        indexes = [models.Index(fields=["document", "facility", "effective_on"])]

    def __str__(self) -> str:
        return (
            f"{self.get_document_display()} 第{self.number}版（{self.effective_on:%Y-%m-%d}施行）"
        )

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_on <= day
