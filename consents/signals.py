"""Signals the consents app sends to the apps above it (groups, printing), which keep copies
of a patient's personal data in their own tables and files."""

from django.dispatch import Signal

# 別紙5 (3), 別紙6 「遅滞なく削除」: these patients' personal data was just erased, inside the
# sender's transaction. Every app that keeps something naming a patient (a group's name, a
# printed form, a notification's text) receives it and erases its part in the same
# transaction. Arguments: patient_ids (list[int]), consent_ids (list[int]), texts (the
# patients' names, kana, addresses and phones as they were, to find free text that quoted
# them), actor, now.
patients_erased = Signal()

# 第9条2項: the patient's consent no longer holds (withdrawn, or the active consent recorded
# by mistake): the groups around the patient end, inside the sender's transaction.
# Arguments: actor, patient, cause ("withdrawn" or "entered_in_error").
consent_ended = Signal()

# The patient's name was corrected: copies that show it (a patient group's name) follow,
# inside the sender's transaction. Arguments: patient.
patient_renamed = Signal()
