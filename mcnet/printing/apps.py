from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrintingConfig(AppConfig):
    # Its model (GeneratedDocument) stays in mcnet/models.py under the label "mcnet": moving it
    # would rename its table.
    name = "mcnet.printing"
    label = "printing"
    verbose_name = _("帳票")

    def ready(self) -> None:
        # Printing sits above the apps whose signals it receives (consents.signals).
        from . import receivers  # noqa: F401
