from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    """Applications (別紙1/2), bulk registration (別紙3) and change notices (別紙4)."""

    name = "enrollment"
    verbose_name = _("利用申込・一括登録・変更届")

    def ready(self):
        # signals: connects the receivers; tasks: registers the applicants' outbox (mcnet/outbox.py)
        from . import signals, tasks  # noqa: F401
