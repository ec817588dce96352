"""The objects tests make, named by how they are made:

- `made_*`: through the application's services, as a user would (the grants, audit events and
  state checks are the real ones). For tests of behaviour: who may see or do what.
- `row_*`: rows written straight to the tables with the dates and states a test needs, no
  service involved (no grants, no audit). For the figures and lists that only count rows, and
  `row_network` for a large network made set-based (the constant-queries tests).

The demo network's own objects are found by name in tests/demo_objects.py, not made here.
"""

import datetime as dt
import itertools

from django.contrib.auth.models import Group as AuthGroup
from django.db import connection
from django.utils import timezone

from consents import services as consent_services
from consents.models import Consent, Patient
from devices.models import CHECKLIST_FIELDS, Device, IncidentReport
from enrollment.models import Application, ChangeNotice, RosterRequest
from facilities.models import (
    CENTER_STAFF_GROUP,
    EducationSession,
    Facility,
    FacilityMembership,
    FacilityRole,
    StaffPledge,
    User,
)
from groups import services as group_services
from groups.models import Group, Membership, SupporterReview

# --- made through the services -----------------------------------------------------------------


def made_patient(*, manager: User, facility: Facility, name: str = "新潟三郎", **fields) -> Patient:
    fields.setdefault("kana", "にいがた さぶろう")
    fields.setdefault("birth_date", dt.date(1945, 5, 5))
    fields.setdefault("address", "新潟県上越市大手町1-1")
    fields.setdefault("phone", "025-555-0909")
    return consent_services.patient_register(actor=manager, facility=facility, name=name, **fields)


def made_consent(*, manager: User, patient: Patient, covered=None, **fields) -> Consent:
    facility = patient.facility
    fields.setdefault("signed_on", dt.date(2026, 5, 1))
    fields.setdefault("paper_kept_at_facility", True)
    return consent_services.consent_record(
        actor=manager,
        patient=patient,
        explainer_facility=facility,
        explainer_name=manager.name,
        covered_facilities=covered or Facility.objects.all(),
        **fields,
    )


def made_patient_group(*, manager: User, facility: Facility, name: str = "新潟三郎") -> Group:
    patient = made_patient(manager=manager, facility=facility, name=name)
    made_consent(manager=manager, patient=patient)
    return group_services.group_create_for_patient(actor=manager, patient=patient)


def made_membership(group: Group, manager: User, member: User) -> Membership:
    """`member` invited by `manager` and accepting: an open membership of `group`."""
    invitation = group_services.membership_invite(actor=manager, group=group, user=member)
    return group_services.group_invitation_accept(actor=member, membership=invitation)


# --- rows written straight to the tables -------------------------------------------------------

_seq = itertools.count(1)
JST = timezone.get_fixed_timezone(9 * 60)


def at(year, month, day, hour=12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=JST)


def row_center_user(email: str = "center-test@example.jp") -> User:
    user = User.objects.create_user(
        email, "pw-center-2026", name="センター 試験", occupation="center_staff"
    )
    group, _created = AuthGroup.objects.get_or_create(name=CENTER_STAFF_GROUP)
    user.groups.add(group)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def row_facility(kind="clinic", state="active", created_at=None, name=None) -> Facility:
    n = next(_seq)
    f = Facility.objects.create(name=name or f"試験事業所{n}", kind=kind, state=state)
    if created_at:
        Facility.objects.filter(pk=f.pk).update(created_at=created_at)
        f.created_at = created_at
    return f


def row_user(
    occupation="nurse", state="active", date_joined=None, is_active=True, name=None
) -> User:
    n = next(_seq)
    return User.objects.create(
        email=f"test{n}@example.jp",
        name=name or f"試験 利用者{n}",
        occupation=occupation,
        state=state,
        is_active=is_active,
        date_joined=date_joined or timezone.now(),
    )


def row_staff(fac: Facility, *, occupation="nurse", active=True, user_active=True, **kw) -> User:
    person = row_user(occupation=occupation, is_active=user_active, **kw)
    FacilityMembership.objects.create(user=person, facility=fac, is_active=active)
    return person


def row_role(person: User, fac: Facility, role_name="mcs_admin") -> FacilityRole:
    return FacilityRole.objects.create(user=person, facility=fac, role=role_name)


def row_pledge(person: User, fac: Facility) -> StaffPledge:
    return StaffPledge.objects.create(user=person, facility=fac, signed_on=dt.date(2025, 4, 1))


def row_education(fac: Facility, held_on: dt.date, *attendees) -> EducationSession:
    session = EducationSession.objects.create(facility=fac, held_on=held_on, topic="研修")
    session.attendees.add(*attendees)
    return session


def row_patient(fac: Facility) -> Patient:
    n = next(_seq)
    return Patient.objects.create(facility=fac, name=f"試験患者{n}", kana=f"しけん{n}")


def row_patient_group(
    fac: Facility,
    *,
    created_at=None,
    last_reviewed_at=None,
    state="active",
    archived_at=None,
    end_reported_at=None,
) -> Group:
    p = row_patient(fac)
    if state == "archived" and archived_at is None:
        archived_at = timezone.now()
    return Group.objects.create(
        kind="patient",
        name=f"{p.name}さんのグループ",
        patient=p,
        facility=fac,
        state=state,
        created_at=created_at or timezone.now(),
        last_reviewed_at=last_reviewed_at,
        archived_at=archived_at,
        end_reported_at=end_reported_at,
        end_reason="care_ended" if state != "active" else "",
    )


def row_free_group(fac: Facility, *, created_at=None, state="active", archived_at=None) -> Group:
    if state == "archived" and archived_at is None:
        archived_at = timezone.now()
    return Group.objects.create(
        kind="free",
        name=f"自由グループ{next(_seq)}",
        facility=fac,
        state=state,
        created_at=created_at or timezone.now(),
        archived_at=archived_at,
    )


def row_review(group: Group, reviewed_at: dt.datetime) -> SupporterReview:
    r = SupporterReview.objects.create(group=group, reviewed_at=reviewed_at)
    Group.objects.filter(pk=group.pk, last_reviewed_at__lt=reviewed_at).update(
        last_reviewed_at=reviewed_at
    )
    Group.objects.filter(pk=group.pk, last_reviewed_at__isnull=True).update(
        last_reviewed_at=reviewed_at
    )
    return r


def row_consent(fac: Facility, *, recorded_at, status="active", withdrawn_on=None) -> Consent:
    c = Consent.objects.create(
        patient=row_patient(fac),
        status=status,
        signed_on=recorded_at.date(),
        explainer_facility=fac,
        explainer_name="説明 太郎",
        paper_kept_at_facility=True,
        withdrawn_on=withdrawn_on,
    )
    Consent.objects.filter(pk=c.pk).update(recorded_at=recorded_at)
    return c


def row_device(fac: Facility, *, confirmed_on: dt.date | None, state="in_use") -> Device:
    fields = dict.fromkeys(CHECKLIST_FIELDS, confirmed_on)
    return Device.objects.create(
        facility=fac,
        kind="pc",
        label=f"PC-{next(_seq)}",
        state=state,
        erase_method="erase_software" if state == "disposed" else "",
        **fields,
    )


def row_incident(
    fac: Facility, reporter: User, *, escalated=True, state="reported"
) -> IncidentReport:
    return IncidentReport.objects.create(
        facility=fac,
        reporter=reporter,
        kind="anomaly",
        occurred_at=timezone.now(),
        description="試験",
        state=state,
        outcome="済" if state == "closed" else "",
        escalated_at=timezone.now() if escalated else None,
    )


def row_application(state="submitted") -> Application:
    n = next(_seq)
    return Application.objects.create(
        facility_name=f"申込事業所{n}",
        postal_code="943-0000",
        prefecture="新潟県",
        city="上越市",
        address_line="1-1",
        phone="025-000-0000",
        kind="clinic",
        manager_name="申込 太郎",
        manager_email=f"apply{n}@example.jp",
        pledge_affirmed=True,
        state=state,
    )


def row_roster(fac: Facility, state="submitted") -> RosterRequest:
    return RosterRequest.objects.create(facility=fac, state=state, source="web")


def row_notice(fac: Facility, state="submitted") -> ChangeNotice:
    return ChangeNotice.objects.create(facility=fac, kind="change", state=state)


# --- a large network, set-based ----------------------------------------------------------------


def row_network(*, facilities: int, groups: int, batch: int = 10_000) -> None:
    """`facilities` facilities with three staff each (one MCS administrator, pledges for some,
    education for some), devices, consents, and `groups` groups — four in five patient groups
    (each with its patient), the rest free groups — in every state, with reviews. Every table
    is filled by bulk_create in batches of `batch` rows, a handful of statements per table."""
    now = timezone.now()
    kinds = [k for k, _label in Facility.Kind.choices]
    states = [s for s, _label in Facility.State.choices]
    Facility.objects.bulk_create(
        (
            Facility(
                name=f"大規模事業所{i}",
                search_name=f"大規模事業所{i}",
                kind=kinds[i % len(kinds)],
                state=states[i % 7 % len(states)] if i % 7 < 4 else "active",
                created_at=now - dt.timedelta(days=i % 400),
            )
            for i in range(facilities)
        ),
        batch_size=batch,
    )
    fac_ids = list(
        Facility.objects.filter(name__startswith="大規模事業所")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    occupations = ["doctor", "nurse", "care_manager", "pharmacist", "clerk"]
    User.objects.bulk_create(
        (
            User(
                email=f"bulk{i}@example.jp",
                name=f"大規模 利用者{i}",
                occupation=occupations[i % len(occupations)],
                date_joined=now - dt.timedelta(days=i % 400),
            )
            for i in range(3 * facilities)
        ),
        batch_size=batch,
    )
    user_ids = list(
        User.objects.filter(email__startswith="bulk").order_by("pk").values_list("pk", flat=True)
    )
    FacilityMembership.objects.bulk_create(
        (
            FacilityMembership(user_id=uid, facility_id=fac_ids[i // 3])
            for i, uid in enumerate(user_ids)
        ),
        batch_size=batch,
    )
    FacilityRole.objects.bulk_create(
        (
            FacilityRole(user_id=user_ids[3 * i], facility_id=fid, role="mcs_admin")
            for i, fid in enumerate(fac_ids)
            if i % 10
        ),
        batch_size=batch,
    )
    StaffPledge.objects.bulk_create(
        (
            StaffPledge(user_id=uid, facility_id=fac_ids[i // 3], signed_on=dt.date(2025, 4, 1))
            for i, uid in enumerate(user_ids)
            if i % 2
        ),
        batch_size=batch,
    )
    EducationSession.objects.bulk_create(
        (
            EducationSession(facility_id=fid, held_on=timezone.localdate(now), topic="研修")
            for fid in fac_ids[::2]
        ),
        batch_size=batch,
    )
    sessions = dict(
        EducationSession.objects.filter(facility_id__in=fac_ids).values_list("facility_id", "pk")
    )
    EducationSession.attendees.through.objects.bulk_create(
        (
            EducationSession.attendees.through(
                educationsession_id=sessions[fac_ids[i // 3]], user_id=uid
            )
            for i, uid in enumerate(user_ids)
            if fac_ids[i // 3] in sessions
        ),
        batch_size=batch,
    )
    old = timezone.localdate(now) - dt.timedelta(days=800)
    Device.objects.bulk_create(
        (
            Device(
                facility_id=fid,
                kind="pc",
                label=f"PC-{i}",
                **dict.fromkeys(CHECKLIST_FIELDS, old if i % 3 == 0 else timezone.localdate(now)),
            )
            for i, fid in enumerate(fac_ids * 2)
        ),
        batch_size=batch,
    )
    patient_count = groups * 4 // 5
    if connection.vendor == "postgresql":
        _patients_and_groups_in_sql(fac_ids, patient_count, groups, now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after such a load
    else:
        _patients_and_groups_in_bulk(fac_ids, patient_count, groups, now, batch)


# Of five groups: three active, one waiting for the archive, one archived.
GROUP_STATES = ["active", "active", "active", "to_be_archived", "archived"]


def _insert_select(model, source: str, exprs: dict[str, str], params: list) -> None:
    """INSERT INTO <model's table> SELECT … FROM <source>: the columns named in `exprs` are SQL
    over the source, taking their placeholders from `params` in field order; every other column
    gets its field's default."""
    qn = connection.ops.quote_name
    columns, values, args, given = [], [], [], iter(params)
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(qn(field.column))
        if field.name in exprs:
            values.append(exprs[field.name])
            args.extend(next(given) for _ in range(exprs[field.name].count("%s")))
        else:
            values.append("%s")
            args.append(field.get_db_prep_save(field.get_default(), connection))
    # The SQL is this module's own text (table and column names from the models); values
    # travel as parameters.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def _patients_and_groups_in_sql(fac_ids, patient_count, groups, now) -> None:
    """The big tables, generated inside PostgreSQL (INSERT … SELECT generate_series)."""
    fac = "(%s::bigint[])[i %% %s + 1]"
    _insert_select(
        Patient,
        f"generate_series(0, {patient_count - 1}) AS i",
        {
            "facility": fac,
            "name": "'大規模患者' || i",
            "kana": "'かんじゃ'",
            "created_at": "%s::timestamptz",
            "updated_at": "%s::timestamptz",
        },
        [fac_ids, len(fac_ids), now, now],
    )
    patients = (
        "(SELECT id, facility_id, row_number() OVER (ORDER BY id) - 1 AS i "
        "FROM consents_patient WHERE name LIKE '大規模患者%%') AS p"
    )
    today = timezone.localdate(now)
    _insert_select(
        Consent,
        patients,
        {
            "patient": "p.id",
            "status": "CASE WHEN p.i %% 9 = 0 THEN 'inactive' ELSE 'active' END",
            "signed_on": "%s::date",
            "explainer_facility": "p.facility_id",
            "explainer_name": "'説明'",
            "paper_kept_at_facility": "true",
            "recorded_at": "%s::timestamptz - (p.i %% 400) * interval '1 day'",
            "withdrawn_on": "CASE WHEN p.i %% 9 = 0 THEN %s::date END",
        },
        [today, now, today],
    )
    state = "(ARRAY['active','active','active','to_be_archived','archived'])[i %% 5 + 1]"
    common = {
        "state": state,
        "created_at": "%s::timestamptz - (i %% 500) * interval '1 day'",
        "archived_at": f"CASE WHEN {state} = 'archived' "
        "THEN %s::timestamptz - (i %% 300) * interval '1 day' END",
        "end_reported_at": f"CASE WHEN {state} <> 'active' "
        "THEN %s::timestamptz - (i %% 30) * interval '1 day' END",
        "last_reviewed_at": "CASE WHEN i %% 2 = 1 "
        "THEN %s::timestamptz - (i %% 250) * interval '1 day' END",
    }
    _insert_select(
        Group,
        patients,
        {
            "kind": "'patient'",
            "name": "'患者G' || i",
            "patient": "id",
            "facility": "facility_id",
            **common,
        },
        [now, now, now, now],
    )
    _insert_select(
        Group,
        f"generate_series({patient_count}, {groups - 1}) AS i",
        {"kind": "'free'", "name": "'自由G' || i", "facility": fac, **common},
        [fac_ids, len(fac_ids), now, now, now, now],
    )
    _insert_select(
        SupporterReview,
        "groups_group WHERE name LIKE '患者G%%' AND last_reviewed_at IS NOT NULL",
        {"group": "id", "reviewed_at": "last_reviewed_at", "note": "''"},
        [],
    )


def _patients_and_groups_in_bulk(fac_ids, patient_count, groups, now, batch) -> None:
    """The same rows through bulk_create, for databases without generate_series."""
    Patient.objects.bulk_create(
        (
            Patient(facility_id=fac_ids[i % len(fac_ids)], name=f"大規模患者{i}", kana="かんじゃ")
            for i in range(patient_count)
        ),
        batch_size=batch,
    )
    patients = list(
        Patient.objects.filter(name__startswith="大規模患者")
        .order_by("pk")
        .values_list("pk", "facility_id")
    )
    Consent.objects.bulk_create(
        (
            Consent(
                patient_id=pid,
                signed_on=timezone.localdate(now),
                explainer_facility_id=fid,
                explainer_name="説明",
                paper_kept_at_facility=True,
                status="inactive" if i % 9 == 0 else "active",
                withdrawn_on=timezone.localdate(now) if i % 9 == 0 else None,
            )
            for i, (pid, fid) in enumerate(patients)
        ),
        batch_size=batch,
    )

    def make_group(i: int) -> Group:
        state = GROUP_STATES[i % len(GROUP_STATES)]
        created = now - dt.timedelta(days=i % 500)
        common = {
            "state": state,
            "created_at": created,
            "archived_at": now - dt.timedelta(days=i % 300) if state == "archived" else None,
            "end_reported_at": now - dt.timedelta(days=i % 30) if state != "active" else None,
            "last_reviewed_at": now - dt.timedelta(days=i % 250) if i % 2 else None,
        }
        if i < patient_count:
            pid, fid = patients[i]
            return Group(
                kind="patient", name=f"患者G{i}", patient_id=pid, facility_id=fid, **common
            )
        return Group(kind="free", name=f"自由G{i}", facility_id=fac_ids[i % len(fac_ids)], **common)

    Group.objects.bulk_create((make_group(i) for i in range(groups)), batch_size=batch)
    reviewed = Group.objects.filter(
        name__startswith="患者G", last_reviewed_at__isnull=False
    ).values_list("pk", "last_reviewed_at")
    SupporterReview.objects.bulk_create(
        (SupporterReview(group_id=pk, reviewed_at=when) for pk, when in reviewed),
        batch_size=batch,
    )
