from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("事業所と職員")

    def ready(self) -> None:
        from . import signals  # noqa: F401
