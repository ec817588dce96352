"""Which membership fact gives which object permission on a group (deny by default).

- `groups.access_group`: an accepted member (サポーター) sees the group's patient details and
  its member list. An invitee does not (留意事項 4: they judge from the patient's name whether
  they belong, nothing more). Access ends with care (別紙5 (2), 第9条3項): once a patient
  group is closed — archived, or its consent withdrawn or found invalid — no member keeps it;
  its custodians open the record each time with a reason (consents.permissions). A free
  group holds no patient: its members keep reading it in the archive (留意事項 2).
- `groups.manage_group`: the group's manager, while they are an accepted member and the group
  is neither archived (read-only) nor closed.

`grants_for` is the one statement of that rule; services.py applies it in the same transaction
as the fact it follows, and a test rebuilds every grant from the rows with it.
"""

ACCESS_GROUP = "groups.access_group"
MANAGE_GROUP = "groups.manage_group"


def grants_for(*, accepted: bool, is_manager: bool, archived: bool, closed: bool) -> set[str]:
    """`closed`: a patient group whose care has ended (models.closed_patient_group_q)."""
    perms: set[str] = set()
    if accepted and not closed:
        perms.add(ACCESS_GROUP)
        if is_manager and not archived:
            perms.add(MANAGE_GROUP)
    return perms
