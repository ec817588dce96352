from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class McnetConfig(AppConfig):
    name = "mcnet"
    verbose_name = _("ネットワーク共通")

    def ready(self) -> None:
        from . import notifications  # noqa: F401 — registers the notifications' outbox
