from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    """Patient, free and all-users groups, memberships, supporter reviews and the archive."""

    name = "groups"
    verbose_name = _("連携グループ")

    def ready(self) -> None:
        from consents.permissions import PatientGroups, use_patient_groups

        from . import permissions, receivers, selectors  # noqa: F401 — receivers: signals from below

        # Consents' access rule asks these of the groups above it (consents.permissions).
        use_patient_groups(
            PatientGroups(
                has_group=permissions.patient_has_group,
                has_working_group=permissions.patient_has_working_group,
                has_closed_group=permissions.patient_has_closed_group,
                awaiting_archive=permissions.patient_awaiting_archive,
                patient_ids_granted=permissions.patient_ids_granted,
                patient_ids_managed_by=permissions.patient_ids_managed_by,
                groups_of_patient_for=selectors.groups_of_patient_for,
                group_manager_ids_of_patients=selectors.group_manager_ids_of_patients,
                care_team_facility_ids=selectors.care_team_facility_ids,
            )
        )
