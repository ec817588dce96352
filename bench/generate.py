"""Fill the bench database with a large network, set-based.

    python -m bench.generate [--scale 1.0] [--if-needed]

At scale 1.0: 20,000 facilities, 200,000 users (each facility with an MCS administrator and
facility manager, and a patient-group manager; facility #1 with 200 staff), 1,000,000
patients with a consent each, 1,000,000 patient groups, 5,000,000 group memberships, the
guardian grants that follow from those facts (direct-FK tables), and one audit event per
created facility, user, role, patient, consent and group (about 3.3 million), chained with
their real hashes so that `manage.py verify_audit` passes.

Every table is filled by `INSERT … SELECT generate_series` inside PostgreSQL, except the
audit trail: its hash chain is sequential by nature (each hash covers the one before), so it
is computed here with the portal's own `mcnet.audit.event_hash` and streamed in with COPY.
Secondary indexes and foreign keys of the big tables are dropped for the load and rebuilt
afterwards (one sort per index instead of millions of inserts into a b-tree).

Known rows the measurements use:
- bench-user@example.jp: an ordinary nurse, accepted member of exactly 50 working groups;
- bench-admin@example.jp: MCS administrator and facility manager of facility #1, which has
  200 staff (the staff list);
- bench-center@example.jp: center staff (the admin change lists and the center dashboard).
All generated accounts have the password in BENCH_PASSWORD.

The database is dropped and made anew each time (migrate, then load), so a failed run never
leaves half a data set; `--if-needed` skips all of it when a finished data set of the same
scale and the current migrations is already there.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from urllib.parse import urlparse

from bench import DEFAULT_DATABASE_URL

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 — a throwaway data set on loopback
BENCH_USER = "bench-user@example.jp"
BENCH_ADMIN = "bench-admin@example.jp"
BENCH_CENTER = "bench-center@example.jp"
BENCH_USER_GROUPS = 50
STAFF_FACILITY_SIZE = 200
MARKER_TABLE = "bench_dataset"

FULL = {
    "facilities": 20_000,
    "users": 200_000,
    "groups": 1_000_000,
    "memberships_per_group": 5,
}

# Tables filled here whose indexes and foreign keys are rebuilt after the load.
BULK_TABLES = (
    "facilities_user",
    "facilities_facility",
    "facilities_facilitymembership",
    "facilities_facilityrole",
    "facilities_facilityuserobjectpermission",
    "consents_patient",
    "consents_consent",
    "consents_consent_covered_facilities",
    "groups_group",
    "groups_membership",
    "groups_groupuserobjectpermission",
    "mcnet_auditevent",
)

SURNAMES = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 "
    "斎藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川"
).split()
SURNAME_KANA = (
    "さとう すずき たかはし たなか いとう わたなべ やまもと なかむら こばやし かとう よしだ "
    "やまだ ささき やまぐち まつもと いのうえ きむら はやし さいとう しみず やまざき もり "
    "いけだ はしもと あべ いしかわ やました なかじま いしい おがわ"
).split()
GIVEN = "花子 太郎 一郎 次郎 洋子 和子 幸子 節子 弘 清 茂 正 明美 恵子 直子 健一 大輔 美穂 翔太 葵".split()
GIVEN_KANA = (
    "はなこ たろう いちろう じろう ようこ かずこ さちこ せつこ ひろし きよし しげる ただし "
    "あけみ けいこ なおこ けんいち だいすけ みほ しょうた あおい"
).split()
TOWNS = "本町 仲町 大町 寺町 春日野 高田 直江津 新井 妙高 板倉 柿崎 大潟 頸城 吉川 中郷".split()
FACILITY_WORDS = {
    "hospital": "病院",
    "clinic": "クリニック",
    "dental_clinic": "歯科医院",
    "pharmacy": "薬局",
    "visiting_nursing": "訪問看護ステーション",
    "home_care_support": "居宅介護支援事業所",
    "community_support": "地域包括支援センター",
    "care_service": "デイサービス",
    "care_facility": "老人ホーム",
    "municipality": "市役所",
    "other": "事業所",
}


def counts_for(scale: float) -> dict[str, int]:
    """Row counts at `scale`, never below what the known rows need."""
    facilities = max(4, round(FULL["facilities"] * scale))
    # facility #1's staff, an administrator and a care manager for each other facility, and
    # enough ordinary users to fill five-member groups.
    users = max(round(FULL["users"] * scale), STAFF_FACILITY_SIZE + 2 * facilities + 60)
    groups = max(round(FULL["groups"] * scale), 4 * BENCH_USER_GROUPS)
    return {
        "facilities": facilities,
        "users": users,
        "groups": groups,
        "memberships_per_group": FULL["memberships_per_group"],
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database itself ----------------------------------------------------------------------


def _admin_connect(url: str):
    import psycopg

    parts = urlparse(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("mcnet_bench") and not os.environ.get("BENCH_ALLOW_ANY_DATABASE"):
        sys.exit(f"refusing to drop {name!r}: the bench database's name starts with mcnet_bench")
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists(url: str) -> bool:
    name = urlparse(url).path.lstrip("/")
    with _admin_connect(url) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def finished_dataset(scale: float) -> dict | None:
    """The marker of a finished data set of this scale on the current migrations, or None."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return None  # someone added migrations since: the data set is stale
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT scale, counts FROM {MARKER_TABLE} WHERE finished_at IS NOT NULL")  # noqa: S608
        row = cursor.fetchone()
    if row is None or abs(row[0] - scale) > 1e-9:
        return None
    return json.loads(row[1]) if isinstance(row[1], str) else row[1]


# --- INSERT … SELECT with every other column filled from the model's defaults -----------------


def _default_sql(field, params: list) -> str | None:
    """SQL for a column the generator does not set: the model's own default. None: skip it
    (the database fills it). Raises for a required column without a default, so a field
    added by another app later fails loudly here instead of loading wrong data."""
    from django.db import connection, models
    from django.utils import timezone

    if field.primary_key:
        return None
    if getattr(field, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED:
        return None
    if field.has_default():
        default = field.default
        if default is timezone.now:
            return "now()"
        value = default() if callable(default) else default
        params.append(field.get_db_prep_save(value, connection))
        return "%s"
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "now()"
    if field.null:
        return "NULL"
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return "''"
    if isinstance(field, models.FileField):
        return "''"
    raise RuntimeError(
        f"bench/generate.py: {field.model.__name__}.{field.name} is required and has no "
        "default; give it a value in the generator"
    )


def insert_select(model, values: dict[str, str], from_sql: str, *, cursor) -> int:
    """INSERT INTO model's table (columns) SELECT <values or defaults> <from_sql>.

    `values` maps field names (or attnames) to SQL expressions over `from_sql`."""
    params: list = []
    columns, exprs = [], []
    used = set()
    existing = _table_columns(cursor, model._meta.db_table)
    for field in model._meta.concrete_fields:
        if field.column not in existing:
            continue  # a field whose migration is not written yet (another app at work)
        key = field.attname if field.attname in values else field.name
        if key in values:
            expr = values[key]
            used.add(key)
        else:
            expr = _default_sql(field, params)
            if expr is None:
                continue
        columns.append(f'"{field.column}"')
        exprs.append(expr)
    unknown = set(values) - used
    if unknown:
        raise RuntimeError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} {from_sql}"
    )
    cursor.execute(sql, params)
    return cursor.rowcount


def _table_columns(cursor, table: str) -> set[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
    )
    return {row[0] for row in cursor.fetchall()}


def _array(words) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


# --- indexes and foreign keys off during the load, rebuilt after ------------------------------


def drop_secondary_structures(cursor) -> list[str]:
    """Drop foreign keys, unique/check constraints and non-primary indexes of BULK_TABLES;
    return the statements that recreate them, in order."""
    tables = list(BULK_TABLES)
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u', 'c')
        ORDER BY c.contype DESC
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition, _kind in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
    # Unique constraints and indexes first (they are the lookups the FK checks use), then
    # the foreign keys and checks.
    rebuild = [f"{definition}" for _name, definition in indexes]
    rebuild += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition, kind in constraints
        if kind == "u"
    ]
    rebuild += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition, kind in constraints
        if kind != "u"
    ]
    return rebuild


def reset_sequences(cursor) -> None:
    for table in BULK_TABLES:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(
                f"SELECT setval(%s, COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)",  # noqa: S608
                [sequence],
            )


# --- the data ---------------------------------------------------------------------------------


class Layout:
    """Who is who, by id (ids are assigned here, 1..n, so the SQL can compute them)."""

    def __init__(self, counts: dict[str, int]):
        self.F = counts["facilities"]
        self.U = counts["users"]
        self.G = counts["groups"]
        self.K = counts["memberships_per_group"]
        # Users 1..200 work at facility 1 (1 = its MCS administrator, 2 = its care manager);
        # then one administrator and one care manager for each facility 2..F; then the rest,
        # round-robin over facilities 2..F; the last user is bench-user.
        self.admin_base = STAFF_FACILITY_SIZE + 1  # admin of facility f: admin_base + f - 2
        self.cm_base = self.admin_base + self.F - 1  # care manager of f: cm_base + f - 2
        self.bench_user = self.U
        self.bench_center = self.U + 1

    def facility_of_user_sql(self, n: str) -> str:
        return (
            f"CASE WHEN {n} <= {STAFF_FACILITY_SIZE} THEN 1 "
            f"ELSE 2 + mod({n} - {self.admin_base}, {self.F - 1}) END"
        )

    def care_manager_sql(self, f: str) -> str:
        return f"CASE WHEN {f} = 1 THEN 2 ELSE {self.cm_base} + {f} - 2 END"

    # Group members other than the manager come from a pool of ordinary users (facility 1's
    # staff after its two officers, then everyone after the care managers, bench-user
    # excluded), so a group never lists the same person twice and bench-user's 50 are exact.
    @property
    def pool_head(self) -> int:
        return STAFF_FACILITY_SIZE - 2  # ids 3..200

    @property
    def pool_size(self) -> int:
        tail_first = self.cm_base + self.F - 1
        return self.pool_head + (self.U - 1 - tail_first + 1)

    def pool_user_sql(self, i: str) -> str:
        tail_first = self.cm_base + self.F - 1
        return f"CASE WHEN {i} < {self.pool_head} THEN 3 + {i} ELSE {tail_first} + {i} - {self.pool_head} END"

    def bench_user_groups(self) -> list[int]:
        step = self.G // BENCH_USER_GROUPS
        return [1 + i * step for i in range(BENCH_USER_GROUPS)]

    # The same facts in Python, for the audit events (they name their actors by e-mail).
    def facility_of_user(self, n: int) -> int:
        if n <= STAFF_FACILITY_SIZE:
            return 1
        return 2 + (n - self.admin_base) % (self.F - 1)

    def email_of(self, n: int) -> str:
        if n == 1:
            return BENCH_ADMIN
        if n == self.bench_user:
            return BENCH_USER
        return f"user{n}@f{self.facility_of_user(n)}.example.jp"

    def email_sql(self, n: str) -> str:
        return (
            f"CASE WHEN {n} = 1 THEN '{BENCH_ADMIN}' WHEN {n} = {self.bench_user} "
            f"THEN '{BENCH_USER}' ELSE 'user' || {n} || '@f' || ({self.facility_of_user_sql(n)})"
            " || '.example.jp' END"
        )

    def admin_of(self, f: int) -> int:
        return 1 if f == 1 else self.admin_base + f - 2

    def admin_of_sql(self, f: str) -> str:
        return f"CASE WHEN {f} = 1 THEN 1 ELSE {self.admin_base} + {f} - 2 END"

    def care_manager_of(self, f: int) -> int:
        return 2 if f == 1 else self.cm_base + f - 2

    def patient_facility(self, p: int) -> int:
        return 1 + p % self.F

    def archived(self, g: int) -> bool:
        return g % 37 == 0 and g not in self._bench_groups

    @property
    def _bench_groups(self) -> set[int]:
        if not hasattr(self, "_bench_groups_cache"):
            self._bench_groups_cache = set(self.bench_user_groups())
        return self._bench_groups_cache


def _search_keys(model, **exprs) -> dict[str, str]:
    """The directory's normalized search columns (facilities.search.search_key), where the
    model has them: the generated names are kanji and full-width katakana without spaces, so
    the key is the name itself (lower-cased for the Latin and digits of facility names)."""
    names = {f.name for f in model._meta.concrete_fields}
    return {name: expr for name, expr in exprs.items() if name in names}


def _ts(value: dt.datetime) -> str:
    return f"'{value.isoformat()}'::timestamptz"


def _insert_facilities(cursor, L: Layout, now: dt.datetime, words: dict) -> None:
    from facilities.models import Facility

    kinds = list(FACILITY_WORDS)
    towns = _array(TOWNS)
    name = (
        f"'上越' || ({towns})[1 + mod(f, {len(TOWNS)})] || "
        f"({_array(FACILITY_WORDS.values())})[1 + mod(f, {len(kinds)})] || f"
    )
    insert_select(
        Facility,
        {
            **_search_keys(Facility, search_name=f"lower({name})"),
            "id": "f",
            "name": name,
            "kind": f"({_array(kinds)})[1 + mod(f, {len(kinds)})]",
            "postal_code": "'943-' || lpad(mod(f, 10000)::text, 4, '0')",
            "prefecture": "'新潟県'",
            "city": "'上越市'",
            "town": f"({towns})[1 + mod(f, {len(TOWNS)})]",
            "address_line": "(1 + mod(f, 9))::text || '-' || (1 + mod(f, 30))::text",
            "phone": "'025-' || lpad(mod(f, 1000)::text, 3, '0') || '-' || lpad(mod(f, 10000)::text, 4, '0')",
            "manager_name": f"({words['surnames']})[1 + mod(f, {len(SURNAMES)})] || '一郎'",
            "manager_email": L.email_sql(L.admin_of_sql("f")),
            "state": "'active'",
            "state_changed_at": f"{_ts(now)} - make_interval(days => mod(f * 37, 1500))",
            "created_at": f"{_ts(now)} - make_interval(days => mod(f * 37, 1500))",
        },
        f"FROM generate_series(1, {L.F}) AS f",
        cursor=cursor,
    )


def _insert_users(cursor, L: Layout, now: dt.datetime, password_hash: str, words: dict) -> None:
    from facilities.models import User

    occupations = _array(
        ["nurse", "doctor", "pharmacist", "physical_therapist", "home_helper", "care_worker"]
    )
    officer = f"(n <= 2 OR n BETWEEN {L.admin_base} AND {L.cm_base + L.F - 2})"
    special = f"(n IN (1, 2, {L.bench_user}) OR {officer})"
    state = (
        f"CASE WHEN {special} THEN 'active' WHEN mod(n, 50) = 0 THEN 'left' "
        "WHEN mod(n, 211) = 0 THEN 'restricted' ELSE 'active' END"
    )
    name = (
        f"({words['surnames']})[1 + mod(n, {len(SURNAMES)})] || "
        f"({words['given']})[1 + mod(n / {len(SURNAMES)}, {len(GIVEN)})]"
    )
    kana = (
        f"({words['surname_kana']})[1 + mod(n, {len(SURNAMES)})] || "
        f"({words['given_kana']})[1 + mod(n / {len(SURNAMES)}, {len(GIVEN)})]"
    )
    insert_select(
        User,
        {
            **_search_keys(User, search_name=name, search_kana=kana),
            "id": "n",
            "password": f"'{password_hash}'",
            "last_login": "NULL",
            "is_superuser": "false",
            "email": L.email_sql("n"),
            "name": name,
            "kana": kana,
            "gender": "CASE WHEN mod(n, 3) = 0 THEN 'male' ELSE 'female' END",
            "occupation": (
                f"CASE WHEN n = 1 OR n BETWEEN {L.admin_base} AND {L.cm_base - 1} THEN 'clerk' "
                f"WHEN n = 2 OR n BETWEEN {L.cm_base} AND {L.cm_base + L.F - 2} "
                f"THEN 'care_manager' WHEN n = {L.bench_user} THEN 'nurse' "
                f"ELSE ({occupations})[1 + mod(n, 6)] END"
            ),
            "phone": "'090-' || lpad(mod(n, 10000)::text, 4, '0') || '-' || lpad(mod(n * 7, 10000)::text, 4, '0')",
            "state": state,
            "had_mcs_account": "mod(n, 4) = 0",
            "is_staff": "false",
            "is_active": f"({state}) <> 'left'",
            "date_joined": f"{_ts(now)} - make_interval(days => 30 + mod(n * 13, 1400))",
        },
        f"FROM generate_series(1, {L.U}) AS n",
        cursor=cursor,
    )


def _insert_roles(cursor, L: Layout, now: dt.datetime) -> None:
    from facilities.models import FacilityRole, FacilityUserObjectPermission
    from facilities.permissions import ROLE_PERMISSIONS

    Role = FacilityRole.Role
    for role, holder in (
        (Role.MCS_ADMIN, L.admin_of_sql("f")),
        (Role.FACILITY_MANAGER, L.admin_of_sql("f")),
        (Role.GROUP_MANAGER, f"CASE WHEN f = 1 THEN 2 ELSE {L.cm_base} + f - 2 END"),
    ):
        insert_select(
            FacilityRole,
            {
                "user_id": holder,
                "facility_id": "f",
                "role": f"'{role}'",
                "appointed_at": f"{_ts(now)} - make_interval(days => mod(f * 37, 1500))",
                "appointed_by_id": "NULL",
            },
            f"FROM generate_series(1, {L.F}) AS f",
            cursor=cursor,
        )
    # The grants that follow from the roles (facilities.permissions.ROLE_PERMISSIONS).
    mapping = ",".join(
        f"('{role}', '{perm.split('.')[0]}', '{perm.split('.')[1]}')"
        for role, perms in ROLE_PERMISSIONS.items()
        for perm in perms
    )
    insert_select(
        FacilityUserObjectPermission,
        {"permission_id": "p.id", "user_id": "r.user_id", "content_object_id": "r.facility_id"},
        f"FROM facilities_facilityrole r JOIN (VALUES {mapping}) AS m(role, app, codename) "
        "ON m.role = r.role JOIN auth_permission p ON p.codename = m.codename "
        "JOIN django_content_type ct ON ct.id = p.content_type_id AND ct.app_label = m.app",
        cursor=cursor,
    )


def _insert_facility_memberships(cursor, L: Layout) -> None:
    from facilities.models import FacilityMembership

    fac = L.facility_of_user_sql("n")
    second = f"2 + mod(({fac}) + 7, {L.F - 1})"
    insert_select(
        FacilityMembership,
        {
            "user_id": "n",
            "facility_id": fac,
            "is_active": "true",
            "started_at": "u.date_joined",
            "ended_at": "NULL",
        },
        f"FROM generate_series(1, {L.U}) AS n JOIN facilities_user u ON u.id = n",
        cursor=cursor,
    )
    # One ordinary user in twenty also works at a second facility.
    insert_select(
        FacilityMembership,
        {"user_id": "n", "facility_id": second, "is_active": "true", "ended_at": "NULL"},
        f"FROM generate_series({L.cm_base + L.F - 1}, {L.U - 1}) AS n "
        f"WHERE mod(n, 20) = 0 AND {second} <> ({fac})",
        cursor=cursor,
    )


PATIENTS_FROM = "FROM (SELECT p, 1 + mod(p, {F}) AS f FROM generate_series(1, {G}) AS p) AS s"


def _insert_patients_and_consents(cursor, L: Layout, now: dt.datetime, words: dict) -> None:
    from consents.models import Consent, Patient

    source = PATIENTS_FROM.format(F=L.F, G=L.G)
    cm = f"CASE WHEN f = 1 THEN 2 ELSE {L.cm_base} + f - 2 END"
    created = f"{_ts(now)} - make_interval(days => 10 + mod(p * 31, 720))"
    insert_select(
        Patient,
        {
            "id": "p",
            "facility_id": "f",
            "name": f"({words['surnames']})[1 + mod(p * 7, {len(SURNAMES)})] || "
            f"({words['given']})[1 + mod(p * 11, {len(GIVEN)})]",
            "kana": f"({words['surname_kana']})[1 + mod(p * 7, {len(SURNAMES)})] || "
            f"({words['given_kana']})[1 + mod(p * 11, {len(GIVEN)})]",
            "birth_date": "DATE '1925-01-01' + mod(p * 97, 25000)",
            "sex": "CASE WHEN mod(p, 2) = 0 THEN 'female' ELSE 'male' END",
            "address": f"'新潟県上越市' || ({_array(TOWNS)})[1 + mod(p, {len(TOWNS)})] || "
            "(1 + mod(p, 5)) || '丁目' || (1 + mod(p, 40)) || '-' || (1 + mod(p, 20))",
            "phone": "'025-5' || lpad(mod(p, 100)::text, 2, '0') || '-' || lpad(mod(p, 10000)::text, 4, '0')",
            "registered_by_id": cm,
            "created_at": created,
            "updated_at": created,
            "erased_at": "NULL",
        },
        source,
        cursor=cursor,
    )
    insert_select(
        Consent,
        {
            "id": "p",
            "patient_id": "p",
            "status": "'active'",
            "signed_on": f"({created})::date",
            "signer_kind": "CASE WHEN mod(p, 4) = 0 THEN 'family' ELSE 'patient' END",
            "signer_name": "CASE WHEN mod(p, 4) = 0 THEN '家族' ELSE '' END",
            "signer_relationship": "CASE WHEN mod(p, 4) = 0 THEN '長女' ELSE '' END",
            "explainer_facility_id": "f",
            "explainer_phone": "'025-000-0000'",
            "explainer_name": f"'ケアマネ' || ({cm})",
            "academic_use": "mod(p, 3) = 0",
            "scan": "''",
            "paper_kept_at_facility": "true",
            "recorded_by_id": cm,
            "recorded_at": created,
        },
        source,
        cursor=cursor,
    )
    cursor.execute(
        "INSERT INTO consents_consent_covered_facilities (consent_id, facility_id) "
        "SELECT id, explainer_facility_id FROM consents_consent"
    )


def _insert_groups(cursor, L: Layout, now: dt.datetime) -> None:
    from groups.models import Group

    source = PATIENTS_FROM.format(F=L.F, G=L.G)
    cm = f"CASE WHEN f = 1 THEN 2 ELSE {L.cm_base} + f - 2 END"
    created = f"{_ts(now)} - make_interval(days => 10 + mod(p * 31, 720))"
    bench = "ARRAY[" + ",".join(str(g) for g in L.bench_user_groups()) + "]"
    archived = f"(mod(p, 37) = 0 AND p <> ALL({bench}))"
    ending = f"(mod(p, 101) = 0 AND NOT {archived} AND p <> ALL({bench}))"
    insert_select(
        Group,
        {
            "id": "p",
            "kind": "'patient'",
            "name": f"({words_cache['surnames']})[1 + mod(p * 7, {len(SURNAMES)})] || "
            f"({words_cache['given']})[1 + mod(p * 11, {len(GIVEN)})] || 'さんのグループ'",
            "description": "''",
            "patient_id": "p",
            "facility_id": "f",
            "manager_id": cm,
            "state": f"CASE WHEN {archived} THEN 'archived' WHEN {ending} "
            "THEN 'to_be_archived' ELSE 'active' END",
            "created_by_id": cm,
            "created_at": created,
            # 留意事項 1: about one group in ten is overdue for review at 180 days.
            "last_reviewed_at": f"{_ts(now)} - make_interval(days => mod(p * 17, 200))",
            "end_reason": f"CASE WHEN {archived} OR {ending} THEN 'care_ended' ELSE '' END",
            "end_reported_at": f"CASE WHEN {archived} OR {ending} THEN {_ts(now)} END",
            "end_reported_by_id": f"CASE WHEN {archived} OR {ending} THEN {cm} END",
            "archived_at": f"CASE WHEN {archived} THEN {_ts(now)} END",
            "archived_by_id": f"CASE WHEN {archived} THEN {L.admin_of_sql('f')} END",
        },
        source,
        cursor=cursor,
    )
    # The all-users group (基本設定 7 ①): one row, no membership rows.
    insert_select(
        Group,
        {"id": str(L.G + 1), "kind": "'all_users'", "name": "'全ユーザーグループ'"},
        "",
        cursor=cursor,
    )


def _insert_memberships(cursor, L: Layout, now: dt.datetime) -> None:
    from groups.models import Membership

    K, P = L.K, L.pool_size
    stride = P // K + 1  # k * stride < P for k < K: the K-1 members of a group are distinct
    member = L.pool_user_sql(f"mod(g::bigint * 7919 + k * {stride}, {P})")
    cm = "gr.manager_id"
    last = K - 1
    state = (
        f"CASE WHEN k = 0 THEN 'accepted' WHEN k = {last} AND mod(g, 10) = 0 THEN 'invited' "
        f"WHEN k = {last} AND mod(g, 20) = 5 THEN 'removed' ELSE 'accepted' END"
    )
    invited_at = "gr.created_at + make_interval(hours => k)"
    insert_select(
        Membership,
        {
            "group_id": "g",
            "user_id": f"CASE WHEN k = 0 THEN {cm} ELSE {member} END",
            "state": state,
            "invited_by_id": f"CASE WHEN k = 0 THEN NULL ELSE {cm} END",
            "invited_at": invited_at,
            "responded_at": f"CASE WHEN ({state}) = 'invited' THEN NULL "
            f"ELSE {invited_at} + interval '1 day' END",
            "ended_at": f"CASE WHEN ({state}) = 'removed' THEN {_ts(now)} END",
            "ended_by_id": f"CASE WHEN ({state}) = 'removed' THEN {cm} END",
            "end_reason": f"CASE WHEN ({state}) = 'removed' THEN '担当終了' ELSE '' END",
        },
        f"FROM generate_series(1, {L.G}) AS g CROSS JOIN generate_series(0, {K - 1}) AS k "
        "JOIN groups_group gr ON gr.id = g",
        cursor=cursor,
    )
    bench = "ARRAY[" + ",".join(str(g) for g in L.bench_user_groups()) + "]"
    insert_select(
        Membership,
        {
            "group_id": "gr.id",
            "user_id": str(L.bench_user),
            "state": "'accepted'",
            "invited_by_id": "gr.manager_id",
            "invited_at": "gr.created_at + interval '5 hours'",
            "responded_at": "gr.created_at + interval '1 day'",
        },
        f"FROM groups_group gr WHERE gr.id = ANY({bench})",
        cursor=cursor,
    )


# groups.permissions.closed_patient_group_q in SQL: care has ended, no member keeps a grant.
CLOSED_GROUP_SQL = (
    "g.kind = 'patient' AND (g.state = 'archived' "
    "OR g.end_reason IN ('consent_withdrawn', 'consent_invalid'))"
)


def _insert_group_grants(cursor) -> None:
    """groups.permissions.grants_for, set-based: an accepted member may access the group unless
    its care has ended; the accepted manager of a group that is not archived manages it."""
    from django.contrib.auth.models import Permission

    from groups.models import GroupUserObjectPermission
    from groups.permissions import ACCESS_GROUP, MANAGE_GROUP

    def permission_id(perm: str) -> int:
        app_label, codename = perm.split(".")
        return Permission.objects.get(content_type__app_label=app_label, codename=codename).pk

    insert_select(
        GroupUserObjectPermission,
        {
            "permission_id": str(permission_id(ACCESS_GROUP)),
            "user_id": "m.user_id",
            "content_object_id": "m.group_id",
        },
        "FROM groups_membership m JOIN groups_group g ON g.id = m.group_id "
        f"WHERE m.state = 'accepted' AND NOT ({CLOSED_GROUP_SQL})",
        cursor=cursor,
    )
    insert_select(
        GroupUserObjectPermission,
        {
            "permission_id": str(permission_id(MANAGE_GROUP)),
            "user_id": "m.user_id",
            "content_object_id": "m.group_id",
        },
        "FROM groups_membership m JOIN groups_group g ON g.id = m.group_id "
        "WHERE m.state = 'accepted' AND m.user_id = g.manager_id AND g.state <> 'archived' "
        f"AND NOT ({CLOSED_GROUP_SQL})",
        cursor=cursor,
    )


# --- the audit trail: real hashes, in id order, streamed with COPY ------------------------------


class _Event:
    """What mcnet.audit.event_hash reads, without a model instance per row."""

    __slots__ = (
        "action",
        "actor_label",
        "changes",
        "created_at",
        "facility_id",
        "ip_address",
        "object_id",
        "object_repr",
        "object_type",
        "prev_hash",
    )


_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _audit_events(L: Layout, now: dt.datetime):
    """(actor_id, actor_label, action, object_type, object_id, object_repr, facility_id,
    changes) for every generated row, in the order they were made."""
    center = BENCH_CENTER
    for f in range(1, L.F + 1):
        kind = list(FACILITY_WORDS)[f % len(FACILITY_WORDS)]
        yield (
            None,
            center,
            "facility.create",
            "facilities.facility",
            f,
            f"事業所 #{f}",
            f,
            {"kind": kind},
        )
    for n in range(1, L.U + 1):
        email = L.email_of(n)
        yield None, center, "user.create", "facilities.user", n, email, None, {"email": email}
    for role, holder in (
        ("mcs_admin", L.admin_of),
        ("facility_manager", L.admin_of),
        ("group_manager", L.care_manager_of),
    ):
        for f in range(1, L.F + 1):
            user = holder(f)
            yield (
                None,
                center,
                "role.appoint",
                "facilities.facilityrole",
                "",
                "",
                f,
                {
                    "user": L.email_of(user),
                    "role": role,
                },
            )
    for p in range(1, L.G + 1):
        f = L.patient_facility(p)
        cm = L.care_manager_of(f)
        label = L.email_of(cm)
        # Never a patient's name in the trail (consents.models.Patient.__str__).
        yield cm, label, "patient.create", "consents.patient", p, f"患者 #{p}", f, {}
        yield cm, label, "consent.record", "consents.consent", p, f"同意書 #{p}", f, {}
        state = "archived" if L.archived(p) else "active"
        yield cm, label, "group.create", "groups.group", p, f"グループ #{p}", f, {"state": state}


def _copy_audit_events(cursor, L: Layout, now: dt.datetime) -> int:
    from mcnet.audit import GENESIS, event_hash

    total = L.F + L.U + 3 * L.F + 3 * L.G
    start = now - dt.timedelta(seconds=total + 60)
    raw = cursor.cursor  # psycopg's own cursor, for COPY
    prev = GENESIS
    event = _Event()
    event.ip_address = None
    columns = (
        "id, created_at, actor_id, actor_label, action, object_type, object_id, object_repr, "
        "facility_id, changes, ip_address, prev_hash, hash"
    )
    n = 0
    with raw.copy(f"COPY mcnet_auditevent ({columns}) FROM STDIN") as copy:
        lines = []
        for actor_id, label, action, otype, oid, orepr, facility_id, changes in _audit_events(
            L, now
        ):
            n += 1
            created = start + dt.timedelta(seconds=n)
            event.prev_hash = prev
            event.created_at = created
            event.actor_label = label
            event.action = action
            event.object_type = otype
            event.object_id = str(oid)
            event.object_repr = orepr
            event.facility_id = facility_id
            event.changes = changes
            digest = event_hash(event)
            lines.append(
                "\t".join(
                    (
                        str(n),
                        created.isoformat(),
                        "\\N" if actor_id is None else str(actor_id),
                        label.translate(_COPY_ESCAPE),
                        action,
                        otype,
                        str(oid),
                        orepr.translate(_COPY_ESCAPE),
                        "\\N" if facility_id is None else str(facility_id),
                        json.dumps(changes, ensure_ascii=False).translate(_COPY_ESCAPE),
                        "\\N",
                        prev,
                        digest,
                    )
                )
            )
            prev = digest
            if len(lines) >= 20_000:
                copy.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            copy.write("\n".join(lines) + "\n")
    return n


# --- the whole run ------------------------------------------------------------------------------

words_cache: dict[str, str] = {}


def _actual_counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "facilities": "facilities_facility",
        "users": "facilities_user",
        "facility_memberships": "facilities_facilitymembership",
        "facility_roles": "facilities_facilityrole",
        "facility_grants": "facilities_facilityuserobjectpermission",
        "patients": "consents_patient",
        "consents": "consents_consent",
        "groups": "groups_group",
        "memberships": "groups_membership",
        "group_grants": "groups_groupuserobjectpermission",
        "audit_events": "mcnet_auditevent",
    }
    result = {}
    with connection.cursor() as cursor:
        for key, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            result[key] = cursor.fetchone()[0]
    return result


def _page_triggers(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgname LIKE 'mcnet\\_pages\\_%' ORDER BY 1, 2"
    )
    return cursor.fetchall()


def generate(scale: float) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from facilities import services
    from facilities.models import User
    from mcnet.text import normalize_kana

    counts = counts_for(scale)
    L = Layout(counts)
    started = time.monotonic()
    timings: dict[str, float] = {}
    mark = [started]

    def step(name: str) -> None:
        now_ = time.monotonic()
        timings[name] = round(now_ - mark[0], 1)
        mark[0] = now_
        log(f"{name}: {timings[name]} s")

    log(f"migrating; then {counts}")
    call_command("migrate", verbosity=0, interactive=False)
    step("migrate")

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    words_cache.update(
        surnames=_array(SURNAMES),
        given=_array(GIVEN),
        surname_kana=_array(normalize_kana(w) for w in SURNAME_KANA),
        given_kana=_array(normalize_kana(w) for w in GIVEN_KANA),
    )
    password_hash = make_password(BENCH_PASSWORD)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # No page-generation triggers for the load (groups migration 0009): they would look
        # up the members of every loaded group, and a new data set has no cached page to
        # invalidate (mcnet.pagecache keys name the account's date_joined, new here). The
        # dashboard's tallies (mcnet.dashboard migration 0002) keep counting: one aggregate
        # per INSERT statement.
        page_triggers = _page_triggers(cursor)
        for table, name in page_triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (scale float, counts jsonb, finished_at timestamptz)"
        )
        rebuild = drop_secondary_structures(cursor)
        step("drop indexes and constraints for the load")
        _insert_facilities(cursor, L, now, words_cache)
        step("facilities")
        _insert_users(cursor, L, now, password_hash, words_cache)
        step("users")
        _insert_facility_memberships(cursor, L)
        step("facility memberships")
        _insert_roles(cursor, L, now)
        step("roles and their grants")
        _insert_patients_and_consents(cursor, L, now, words_cache)
        step("patients and consents")
        _insert_groups(cursor, L, now)
        step("groups")
        _insert_memberships(cursor, L, now)
        step("group memberships")
        _insert_group_grants(cursor)
        step("group grants")
        _copy_audit_events(cursor, L, now)
        step("audit events (real hash chain, COPY)")
        for statement in rebuild:
            cursor.execute(statement)
        reset_sequences(cursor)
        for table, name in page_triggers:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
        step(f"rebuild {len(rebuild)} indexes and constraints")

    # The center's account goes through the portal's own services (group, permissions, audit
    # event appended to the chain).
    center = services.user_create(
        actor=None,
        email=BENCH_CENTER,
        password=BENCH_PASSWORD,
        name="センター職員",
        kana="センターショクイン",
    )
    services.center_staff_add(actor=None, user=center)
    assert User.objects.filter(email=BENCH_USER).exists()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    step("center staff, VACUUM ANALYZE")

    actual = _actual_counts()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, now())",  # noqa: S608
            [scale, json.dumps({"counts": actual, "timings_s": timings})],
        )
    total = round(time.monotonic() - started, 1)
    log(f"generated in {total} s: {actual}")
    return {"scale": scale, "counts": actual, "timings_s": timings, "total_s": total}


def dataset_info() -> dict | None:
    from django.db import connection

    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT scale, counts FROM {MARKER_TABLE} WHERE finished_at IS NOT NULL")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    info = json.loads(row[1]) if isinstance(row[1], str) else row[1]
    return {"scale": row[0], **info}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument(
        "--if-needed",
        action="store_true",
        help="do nothing when a finished data set of this scale and migrations exists",
    )
    args = parser.parse_args(argv)

    import django
    from django.conf import settings

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if args.if_needed and database_exists(url):
        django.setup()
        if finished_dataset(args.scale) is not None:
            log(f"the bench data set (scale {args.scale}) is already there: nothing to do")
            return 0
        from django.db import connections

        connections.close_all()
    recreate_database(url)
    django.setup()
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    generate(args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
