"""What the devices app does when an app below it tells of a change (a named signal)."""

from django.apps import apps
from django.dispatch import receiver

from consents.signals import patients_erased
from facilities.signals import staff_left
from mcnet.erasure import quotes_replace

from . import services


@receiver(patients_erased, dispatch_uid="devices.patients_erased")
def on_patients_erased(sender, *, texts, **kwargs) -> dict:
    # 別紙6: a take-out, loss, incident or leak report may quote the patient; the report is
    # kept (art. 12, 個人情報保護法 §26), the quote is not.
    changed = sum(
        quotes_replace(model, texts) for model in apps.get_app_config("devices").get_models()
    )
    return {"reports": changed}


@receiver(staff_left, dispatch_uid="devices.staff_left")
def on_staff_left(sender, *, user, facility, actor, reason="", left_network=False, **kwargs):
    # 留意事項4, 第12条(10): a leaver's approvals end and what they were lent is to be returned.
    return services.leaver_checklist_open(
        actor=actor, user=user, facility=facility, reason=reason, left_network=left_network
    )
