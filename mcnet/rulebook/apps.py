from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulebookConfig(AppConfig):
    # In the base layer: every app reads the version of the rules in force (第15条).
    name = "mcnet.rulebook"
    label = "rulebook"
    verbose_name = _("規程・様式の版")
