from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditlogConfig(AppConfig):
    name = "mcnet.auditlog"
    label = "auditlog"
    verbose_name = _("監査ログ")
