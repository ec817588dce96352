"""Hostile input to every form and upload of the portal, property-based.

The forms are found, not listed: every page of the permission matrix is opened as a role that
may see it, and each `<form method="post">` on it is parsed (fields, options, file inputs,
submit buttons); the POST-only actions of the matrix are added with their expected data; the
center's admin "add" forms too. Hypothesis then fills some fields with hostile values (huge,
empty, control characters, mixed widths, wrong types, markup, other objects' ids, several
values for one field, renamed and broken files) and posts the form. Each example runs in a
savepoint that is rolled back. For every answer:

- never a 500 (an exception in the view fails the test with the falsifying input);
- a form shown again (200) carries a message (Django's error list, an alert, a message);
- a refused post (anything but a redirect) changed no row anywhere (nothing half-written);
- hostile markup is never echoed unescaped.

Examples per form: HOSTILE_EXAMPLES (default 5), so CI stays within its time.
"""

import hashlib
import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcnet.models import AuditEvent
from tests.conftest import ADMINISTRATOR_ROLES, log_in

from .expectations import EXPECTATIONS, OK, REDIRECT

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "5"))
# Who opens a page to find its forms: the first role the matrix lets in.
ROLE_ORDER = (
    "user",
    "group_manager",
    "mcs_admin",
    "other_facility_user",
    "other_mcs_admin",
    "center",
    "anonymous",
)
# Forms that end the session or leave the portal are not attacked here.
SKIP_ACTIONS = ("/accounts/logout/", "/admin/logout/")
ERROR_MARKERS = (
    b"errorlist",
    b'role="alert"',
    b"error-summary",
    b'aria-invalid="true"',
    b'class="messages"',
)
MARKUP = "<script>alert(1)</script>"

HOSTILE_TEXT = (
    "",
    " ",
    "\u3000\u3000",  # ideographic spaces only
    "a" * 100_000,
    "あ" * 30_000,
    "\x00",
    "abc\x00def",
    "\x1b[2J\x07",
    "\u202eevil.pdf",  # right-to-left override
    "\r\n\r\n",
    "\t",
    "\ufeff",
    "e\u0301",
    "ＡＢＣ１２３＠ｅｘａｍｐｌｅ．ｊｐ",
    "ｱｲｳｴｵ ﾊﾝｶｸ",
    "０２５－１２３－４５６７",
    "９４３ー１１１１",
    "２０２６年１３月４５日",
    "2026-02-30",
    "令和8年1月1日",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    MARKUP,
    "' OR 1=1 --",
    "{{ 7*7 }}{% debug %}",
    "../../etc/passwd",
    "🙂" * 50,
    "nurse@takada.example.jp",
    "2147483648",
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # input type, "select", "textarea" or "submit"
    value: str = ""
    options: tuple[str, ...] = ()
    multiple: bool = False
    checked: bool = False


@dataclass
class Form:
    role: str
    page: str
    action: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)

    def baseline(self) -> dict:
        """What the page would submit untouched, with its last named submit button (the
        primary action comes last: "add rows", then "submit")."""
        data: dict[str, list] = {}
        submits = [f for f in self.fields if f.kind == "submit"]
        if submits:
            data[submits[-1].name] = [submits[-1].value]
        for f in self.fields:
            if f.kind in ("checkbox", "radio"):
                if f.checked:
                    data.setdefault(f.name, []).append(f.value)
            elif f.kind == "select":
                if f.options:
                    data.setdefault(f.name, []).append(f.value or f.options[0])
            elif f.kind not in ("file", "submit"):
                data.setdefault(f.name, []).append(f.value)
        return data


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a and not self._select["selected"]:
                self._select["selected"] = a.get("value", "")
            return
        if tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action", ""),
                "enctype": a.get("enctype", ""),
                "fields": [],
            }
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            return
        if "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("reset", "button", "image"):
                return
            self._form["fields"].append(
                Field(
                    a["name"],
                    kind,
                    a.get("value", "on" if kind == "checkbox" else ""),
                    checked="checked" in a,
                )
            )
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._form["fields"].append(Field(a["name"], "submit", a.get("value", "")))
        elif tag == "select":
            self._select = {
                "name": a["name"],
                "multiple": "multiple" in a,
                "options": [],
                "selected": "",
            }
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "text": ""}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            s = self._select
            self._form["fields"].append(
                Field(s["name"], "select", s["selected"], tuple(s["options"]), s["multiple"])
            )
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            t = self._textarea
            self._form["fields"].append(Field(t["name"], "textarea", t["text"].lstrip("\n")))
            self._textarea = None


def forms_on(html: str, page_url: str, role: str, page: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    found = []
    for raw in parser.forms:
        if raw["method"] != "post":
            continue
        action = urljoin(page_url, raw["action"] or page_url)
        parts = urlsplit(action)
        if parts.netloc not in ("", "testserver") or parts.path.startswith(SKIP_ACTIONS):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        found.append(Form(role, page, path, "multipart" in raw["enctype"], list(raw["fields"])))
    return found


# --- hostile values ------------------------------------------------------------------------------


def _file(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return (name, content, content_type)


PNG_HEADER = b"\x89PNG\r\n\x1a\n"
HOSTILE_FILES = (
    _file("scan.pdf", b"this is plain text, not a PDF", "application/pdf"),  # renamed text
    _file("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg"),  # a program, renamed
    _file("page.png", b"<html><script>alert(1)</script></html>", "image/png"),
    _file("empty.pdf", b"", "application/pdf"),
    _file("broken.png", PNG_HEADER + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 20, "image/png"),
    _file("truncated.pdf", b"%PDF-1.7\n1 0 obj\n<<", "application/pdf"),
    _file("../../../etc/passwd.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    _file("名前 with spaces and 全角.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg"),
    _file("a" * 300 + ".pdf", b"%PDF-1.4\n", "application/pdf"),
    _file("roster.xlsx", b"PK\x03\x04not really a zip", "application/vnd.openxmlformats"),
    _file("roster.csv", "名前,性別\n\x00\x01,男\n".encode(), "text/csv"),
    _file("big.pdf", b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024), "application/pdf"),
)

text_values = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=200),
)


def value_for(f: Field):
    if f.kind == "file":
        return st.sampled_from(HOSTILE_FILES)
    if f.kind in ("select", "radio", "checkbox", "submit"):
        valid = st.sampled_from(f.options or (f.value,))
        return st.one_of(
            text_values,
            valid,
            st.lists(st.one_of(valid, text_values), min_size=2, max_size=3),  # several values
        )
    return st.one_of(text_values, st.lists(text_values, min_size=2, max_size=3))


@st.composite
def hostile_post(draw, form: Form):
    data = form.baseline()
    # The page's one-time token (mcnet/submissions.py) would turn every example after the
    # first that succeeds into a replay of it, never reaching the view: each must reach it.
    data.pop("_submission", None)
    files = {}
    names = sorted({f.name for f in form.fields} - {"_submission"})
    # A few fields at a time: one bad field must be named in the message.
    attacked = (
        draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(4, len(names)), unique=True))
        if names
        else []
    )
    by_name = {f.name: f for f in form.fields}
    # Tampering favours what a browser never lets a person type: hidden fields (formset
    # management counts, ids) and the other submit buttons.
    hidden = [
        f.name
        for f in form.fields
        if f.kind == "hidden" and f.name not in ("csrfmiddlewaretoken", "_submission")
    ]
    if hidden and draw(st.booleans()):
        attacked = sorted(set(attacked) | set(hidden))
    submits = [f for f in form.fields if f.kind == "submit"]
    if len(submits) > 1 and draw(st.booleans()):
        step = draw(st.sampled_from(submits[:-1]))
        data[step.name] = [step.value]
    for name in attacked:
        value = draw(value_for(by_name[name]))
        if by_name[name].kind == "file":
            files[name] = value
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    # Sometimes a field the form never had, or every field gone.
    if draw(st.booleans()):
        data[draw(st.sampled_from(("id", "pk", "facility", "user", "state", "is_superuser")))] = [
            draw(st.sampled_from(("1", "999999999", "-1", "active", "true")))
        ]
    if draw(st.integers(0, 9)) == 0:  # every field gone (a browser still sends the token)
        data = {k: v for k, v in data.items() if k == "csrfmiddlewaretoken"}
        files = {}
    return data, files


# --- the checks -------------------------------------------------------------------------------


SNAPSHOT_EXCLUDE = {"sessions.session"}


def _snapshot_models():
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.label_lower not in SNAPSHOT_EXCLUDE and m._meta.managed and not m._meta.proxy
    ]


def snapshot() -> dict[str, str]:
    """A digest of every row of every table, by model (the demo data is small). One query
    on PostgreSQL; model by model elsewhere."""
    models = _snapshot_models()
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        sql = " UNION ALL ".join(
            f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
            f"FROM {qn(m._meta.db_table)} t"
            for m in models
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [m._meta.label_lower for m in models])
            return dict(cursor.fetchall())
    digests = {}
    for model in models:
        rows = repr(list(model._base_manager.order_by("pk").values_list()))
        digests[model._meta.label_lower] = hashlib.sha256(rows.encode()).hexdigest()
    return digests


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def privileges() -> tuple:
    """Who is a superuser or admin user, who is in which Django group or holds which model
    permission, and which facility roles center staff hold: no web form changes any of it
    (superusers come from the command line, center staff from a superuser's admin action)."""
    from facilities.models import FacilityRole, User

    return (
        sorted(User.objects.filter(is_superuser=True).values_list("pk", flat=True)),
        sorted(User.objects.filter(is_staff=True).values_list("pk", flat=True)),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        sorted(User.user_permissions.through.objects.values_list("user_id", "permission_id")),
        sorted(
            FacilityRole.objects.filter(user__groups__name="center_staff").values_list(
                "user_id", "facility_id", "role"
            )
        ),
    )


def only_failed_attempts_audited(after_pk: int) -> bool:
    actions = AuditEvent.objects.filter(pk__gt=after_pk).values_list("action", flat=True)
    return all(action.endswith("_failed") for action in actions)


def shows_the_form_again(body: bytes, form: Form) -> bool:
    html = body.decode(errors="replace")
    again = forms_on(html, "http://testserver" + form.action, form.role, form.page)
    return any(f.action.split("?")[0] == form.action.split("?")[0] for f in again)


def post(client, form: Form, data: dict, files: dict):
    payload = {k: (v[0] if len(v) == 1 else v) for k, v in data.items()}
    for name, (filename, content, content_type) in files.items():
        payload[name] = SimpleUploadedFile(filename, content, content_type=content_type)
    return client.post(form.action, payload)


def attack(client, form: Form, data: dict, files: dict) -> None:
    from django.core.cache import cache

    cache.clear()  # rate-limit counters are not what is under test
    with transaction.atomic():
        before = snapshot()
        before_privileges = privileges()
        before_audit = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        try:
            response = post(client, form, data, files)
        except Exception as exc:
            raise AssertionError(
                f"{form.action} ({form.role}) raised {exc.__class__.__name__}: {exc}"
            ) from exc
        status = response.status_code
        body = b"" if response.streaming else response.content
        assert status < 500, f"{form.action} ({form.role}): HTTP {status}"
        assert MARKUP.encode() not in body, f"{form.action} echoed markup unescaped"
        assert privileges() == before_privileges, f"{form.action} ({form.role}) granted privileges"
        # A named submit button other than the first may be a step that shows the form again
        # on purpose ("add rows"); every other post shown again must say what was wrong.
        submits = [f.name for f in form.fields if f.kind == "submit"]
        step_button = any(name in data for name in submits[:-1])
        if (
            status == 200
            and not step_button
            and shows_the_form_again(body, form)
            and not any(m in body for m in ERROR_MARKERS)
        ):
            dump = os.environ.get("HOSTILE_DUMP")
            if dump:
                with open(dump, "wb") as f:
                    f.write(repr((form.action, data, list(files))).encode()[:5000] + b"\n" + body)
            raise AssertionError(
                f"{form.action} ({form.role}) showed the form again without a message"
            )
        if status not in (301, 302, 303):
            changed = changed_tables(before, snapshot())
            if changed == ["mcnet.auditevent"] and only_failed_attempts_audited(before_audit):
                changed = []  # a refused sign-in is itself recorded (access log), by design
            assert not changed, (
                f"{form.action} ({form.role}) refused the post (HTTP {status}) but changed "
                f"rows of {changed}"
            )
        transaction.set_rollback(True)


# --- which forms ---------------------------------------------------------------------------------


def _first_role(outcomes: dict, wanted: str) -> str | None:
    return next((r for r in ROLE_ORDER if outcomes.get(r) == wanted), None)


def role_for(name: str) -> str | None:
    """The role that posts the page's forms: the first the matrix lets in."""
    expect = EXPECTATIONS[name]
    if expect.method == "post":
        return _first_role(expect.outcomes, REDIRECT) or _first_role(expect.outcomes, OK)
    return _first_role(expect.outcomes, OK)


def discover(name: str, client, role: str) -> list[Form]:
    expect = EXPECTATIONS[name]
    kwargs = expect.kwargs() if callable(expect.kwargs) else expect.kwargs
    try:
        url = reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return []
    if expect.method == "post":
        data = expect.data() if callable(expect.data) else expect.data
        fields = [
            Field(k, "text", str(v[0] if v else "") if isinstance(v, list | tuple) else str(v))
            for k, v in data.items()
        ]
        return [Form(role, name, url, False, fields)]
    response = client.get(url)
    if response.status_code != 200 or response.streaming:
        return []
    html = response.content.decode(errors="replace")
    return [
        f
        for f in forms_on(html, "http://testserver" + url, role, name)
        if f.action.split("?")[0] not in ("/i18n/setlang/",) or name == "home"
    ]


def _admin_add_names() -> list[str]:
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
        for model in admin.site._registry
    )


def _area(name: str) -> str:
    """Pages are attacked area by area (one demo network each): the URL namespace, the
    accounts pages together, the shell's pages together."""
    if ":" in name:
        return name.split(":", 1)[0]
    return "accounts" if name.startswith(("account_", "mfa_", "socialaccount")) else "mcnet"


# Pages nobody may open have no form to attack (decided without a database).
PAGES = sorted(name for name in EXPECTATIONS if role_for(name) is not None)
AREAS = sorted({_area(name) for name in PAGES} | {"admin"})


class RoleClients:
    """One signed-in test client per role (administrators with TOTP, as tests/conftest.py)."""

    def __init__(self, people):
        self.people = people
        self.clients: dict[str, Client] = {}

    def __getitem__(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            if role != "anonymous":
                log_in(client, self.people[role], mfa=role in ADMINISTRATOR_ROLES)
            self.clients[role] = client
        return self.clients[role]


def forms_of_area(area: str, clients: RoleClients) -> list[Form]:
    found: dict[tuple, Form] = {}
    if area == "admin":
        client = clients["center"]
        for name in _admin_add_names():
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            response = client.get(url)
            if response.status_code != 200:
                continue  # the center may not add these
            html = response.content.decode(errors="replace")
            for form in forms_on(html, "http://testserver" + url, "center", name):
                if form.action.split("?")[0] == url:
                    found.setdefault((form.role, form.action), form)
        return list(found.values())
    for name in PAGES:
        if _area(name) != area:
            continue
        role = role_for(name)
        for form in discover(name, clients[role], role):
            key = (form.role, form.action, tuple(sorted(f.name for f in form.fields)))
            found.setdefault(key, form)
    return list(found.values())


@pytest.mark.parametrize("area", AREAS)
def test_hostile_input_to_every_form(area, people):
    """Every form of the area (and the center's admin "add" forms for "admin")."""
    clients = RoleClients(people)
    forms = forms_of_area(area, clients)
    if not forms:
        pytest.skip("no form to post in this area")
    failures = []
    for form in forms:
        try:
            _attack_form(form, clients[form.role])
        except AssertionError as exc:  # keep going: report every broken form at once
            failures.append(f"{form.page} -> {form.action} ({form.role}):\n{exc}"[:4000])
    assert not failures, f"{len(failures)} of {len(forms)} forms:\n\n" + "\n\n".join(failures)


def _attack_form(form: Form, client) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def examples(data):
        payload, files = data.draw(hostile_post(form), label="input")
        attack(client, form, payload, files)

    examples()


def test_a_body_over_the_limit_is_refused_with_a_message(client_as, people, settings):
    """Beyond DATA_UPLOAD_MAX_MEMORY_SIZE Django answers 400 (not a 500, nothing stored)."""
    client = client_as("anonymous")
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    with transaction.atomic():
        before = snapshot()
        response = client.post("/accounts/login/", {"login": huge, "password": huge})
        assert response.status_code in (400, 413)
        assert not changed_tables(before, snapshot())
        transaction.set_rollback(True)


def test_the_parser_finds_the_login_form(client, db):
    html = client.get("/accounts/login/").content.decode()
    forms = forms_on(html, "http://testserver/accounts/login/", "anonymous", "account_login")
    names = {f.name for form in forms for f in form.fields}
    assert {"login", "password"} <= names
    assert connection.vendor in ("postgresql", "sqlite")
