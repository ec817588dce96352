"""What the groups app does when an app below it tells of a change (ARCHITECTURE: an effect
that travels upward is a named signal, received here, never an import from below)."""

from django.dispatch import receiver

from consents.models import Patient
from consents.signals import consent_ended, patient_renamed, patients_erased
from facilities.signals import staff_left, staff_left_network

from . import services
from .models import Group


@receiver(patients_erased, dispatch_uid="groups.patients_erased")
def on_patients_erased(sender, *, patient_ids, actor=None, now=None, **kwargs) -> dict:
    # 別紙6: a patient group is named after its patient; its name goes with the patient's.
    return services.groups_erase_for_patients(patient_ids=patient_ids, actor=actor, now=now)


# 第9条2項: a group without a valid consent ends; the reason recorded says which way it went.
CONSENT_END_REASONS = {
    "withdrawn": Group.EndReason.CONSENT_WITHDRAWN,
    "entered_in_error": Group.EndReason.CONSENT_INVALID,
}


@receiver(consent_ended, dispatch_uid="groups.consent_ended")
def on_consent_ended(sender, *, actor, patient: Patient, cause: str, **kwargs):
    return services.groups_end_for_patient(
        actor=actor, patient=patient, reason=CONSENT_END_REASONS[cause]
    )


@receiver(patient_renamed, dispatch_uid="groups.patient_renamed")
def on_patient_renamed(sender, *, patient: Patient, **kwargs):
    return services.patient_groups_follow_name(patient=patient)


@receiver(staff_left_network, dispatch_uid="groups.staff_left_network")
def on_staff_left_network(sender, *, user, actor, reason: str, **kwargs) -> int:
    # 第6条(3): someone who works nowhere in the network any more leaves every group at once.
    return services.memberships_end_for_user(user=user, actor=actor, reason=reason)


@receiver(staff_left, dispatch_uid="groups.staff_left")
def on_staff_left(sender, *, user, facility, actor, reason: str, left_network=False, **kwargs):
    # Working nowhere any more, staff_left_network ends every membership; otherwise only those
    # joined through the facility they left (留意事項4).
    if left_network:
        return 0
    return services.memberships_end_for_facility(
        user=user, facility=facility, actor=actor, reason=reason
    )
