"""Patients (対象者) and their consents (別紙7, art. 9)."""
