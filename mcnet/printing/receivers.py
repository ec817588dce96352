"""What printing does when an app below it tells of a change (a named signal, received here)."""

from django.dispatch import receiver

from consents.models import AcademicUseConsent, Consent, ConsentAddendum, Patient
from consents.signals import patients_erased

from . import services


@receiver(patients_erased, dispatch_uid="printing.patients_erased")
def on_patients_erased(sender, *, patient_ids, consent_ids, texts, **kwargs) -> dict:
    # 別紙6: a printed 別紙7 (and its stored context) names the patient; it goes now, not
    # after KEEP_DOCUMENTS.
    count = 0
    for obj in [
        *Patient.objects.filter(pk__in=patient_ids),
        *Consent.objects.filter(pk__in=consent_ids),
        # The addendum and the academic-use consent print the name too (別紙7).
        *ConsentAddendum.objects.filter(consent__patient_id__in=patient_ids),
        *AcademicUseConsent.objects.filter(patient_id__in=patient_ids),
    ]:
        count += services.documents_delete_for(obj=obj)
    count += services.documents_delete_quoting(texts=texts)
    return {"documents": count}
