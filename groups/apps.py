from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    """Patient, free and all-users groups, memberships, supporter reviews and the archive."""

    name = "groups"
    verbose_name = _("連携グループ")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 — connects the signals of the apps below
