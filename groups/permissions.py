"""Which membership fact gives which object permission on a group (deny by default).

- `groups.access_group`: an accepted member (サポーター) sees the group's patient details and
  its member list. An invitee does not (留意事項 4: they judge from the patient's name whether
  they belong, nothing more). Kept after archiving: the archive stays readable to its members
  (留意事項 2, "必要に応じて検索・参照").
- `groups.manage_group`: the group's manager, while they are an accepted member and the group
  is not archived (an archived group is read-only).

`grants_for` is the one statement of that rule; services.py applies it in the same transaction
as the fact it follows, and a test rebuilds every grant from the rows with it.
"""

ACCESS_GROUP = "groups.access_group"
MANAGE_GROUP = "groups.manage_group"


def grants_for(*, accepted: bool, is_manager: bool, archived: bool) -> set[str]:
    perms: set[str] = set()
    if accepted:
        perms.add(ACCESS_GROUP)
        if is_manager and not archived:
            perms.add(MANAGE_GROUP)
    return perms
