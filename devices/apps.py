from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    """Devices, take-out and BYOD approvals, loss and incident reports (art. 12)."""

    name = "devices"
    verbose_name = _("IT機器と報告")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 — connects the signals of the apps below
