"""Every write to facilities, users and roles: one transaction, one audit event each."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from guardian.shortcuts import assign_perm, remove_perm

from mcnet.audit import audit_record

from .models import (
    CENTER_STAFF_GROUP,
    Facility,
    FacilityMembership,
    FacilityRole,
    FacilityUserObjectPermission,
    User,
)
from .permissions import CENTER_STAFF_PERMISSIONS, permissions_for_roles


@transaction.atomic
def facility_create(*, actor, **fields) -> Facility:
    facility = Facility.objects.create(**fields)
    audit_record(
        actor=actor,
        action="facility.create",
        target=facility,
        facility_id=facility.pk,
        changes={k: str(v) for k, v in fields.items()},
    )
    return facility


@transaction.atomic
def user_create(*, actor, email: str, password: str | None = None, **fields) -> User:
    user = User.objects.create_user(email=email, password=password, **fields)
    audit_record(
        actor=actor,
        action="user.create",
        target=user,
        changes={"email": user.email, **{k: str(v) for k, v in fields.items()}},
    )
    return user


@transaction.atomic
def membership_add(*, actor, user: User, facility: Facility) -> FacilityMembership:
    membership, created = FacilityMembership.objects.get_or_create(user=user, facility=facility)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.ended_at = None
        membership.save(update_fields=["is_active", "ended_at"])
        created = True
    if created:
        audit_record(
            actor=actor,
            action="membership.add",
            target=membership,
            facility_id=facility.pk,
            changes={"user": user.email},
        )
    return membership


@transaction.atomic
def role_appoint(*, actor, user: User, facility: Facility, role: str) -> FacilityRole:
    """Give `user` a role at `facility` and the object permissions that come with it."""
    membership_add(actor=actor, user=user, facility=facility)
    role_row, created = FacilityRole.objects.get_or_create(
        user=user, facility=facility, role=role, defaults={"appointed_by": actor}
    )
    if created:
        _sync_facility_grants(user=user, facility=facility)
        audit_record(
            actor=actor,
            action="role.appoint",
            target=role_row,
            facility_id=facility.pk,
            changes={"user": user.email, "role": role},
        )
    return role_row


@transaction.atomic
def role_relieve(*, actor, user: User, facility: Facility, role: str) -> None:
    deleted, _ = FacilityRole.objects.filter(user=user, facility=facility, role=role).delete()
    if deleted:
        _sync_facility_grants(user=user, facility=facility)
        audit_record(
            actor=actor,
            action="role.relieve",
            object_type="facilities.facilityrole",
            object_id=f"{facility.pk}:{user.pk}:{role}",
            facility_id=facility.pk,
            changes={"user": user.email, "role": role},
        )


def center_staff_group() -> Group:
    """The center's Django group, with exactly the model permissions of CENTER_STAFF_PERMISSIONS.

    Run after every migrate (signals.py), so new apps' permissions reach the center at once.
    """
    group, _ = Group.objects.get_or_create(name=CENTER_STAFF_GROUP)
    wanted = Q()
    for perm in CENTER_STAFF_PERMISSIONS:
        app_label, codename = perm.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


@transaction.atomic
def center_staff_add(*, actor, user: User) -> None:
    """Center staff use the admin (is_staff) and are members of the center's Django group."""
    user.groups.add(center_staff_group())
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(actor=actor, action="user.center_staff_add", target=user)


def _sync_facility_grants(*, user: User, facility: Facility) -> None:
    """Make the user's guardian grants on `facility` equal to what their role rows give."""
    wanted = permissions_for_roles(
        FacilityRole.objects.filter(user=user, facility=facility).values_list("role", flat=True)
    )
    held = {
        f"facilities.{codename}"
        for codename in FacilityUserObjectPermission.objects.filter(
            user=user, content_object=facility
        ).values_list("permission__codename", flat=True)
    }
    for perm in wanted - held:
        assign_perm(perm, user, facility)
    for perm in held - wanted:
        remove_perm(perm, user, facility)
