from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentsConfig(AppConfig):
    """Patients (対象者) and their consents (別紙7, art. 9)."""

    name = "consents"
    verbose_name = _("患者と同意書")
