from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("事業所と職員")

    def ready(self) -> None:
        # signals: connects the receivers; tasks: registers the invitations' outbox (mcnet/outbox.py)
        from . import signals, tasks  # noqa: F401
