"""Every action the trail records is a member of `AuditAction`, named at its call site."""

import ast
from pathlib import Path

import pytest

from mcnet.audit import AuditAction, audit_record
from mcnet.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
APPS = ("mcnet", "facilities", "consents", "groups", "enrollment", "devices")
# The helpers that pass their action on to audit_record: (name, position of the action).
AUDITING = {
    "audit_record": None,
    "_audit": 1,
    "_audit_membership": 1,
    "_record_request_step": None,
    "_return_paper": None,
}


def _action_argument(call: ast.Call) -> ast.expr | None:
    name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
    if name not in AUDITING:
        return None
    for keyword in call.keywords:
        if keyword.arg == "action":
            return keyword.value
    position = AUDITING[name]
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _written_actions():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and (arg := _action_argument(node)) is not None:
                    yield path.relative_to(ROOT), node.lineno, arg


def test_every_audited_action_is_named_by_its_member():
    """A string (or f-string) at a call site could drift from the stored values."""
    spelled = [
        f"{path}:{line}"
        for path, line, arg in _written_actions()
        if any(_is_text(node) for node in ast.walk(arg))
    ]
    assert spelled == []


def test_the_call_sites_are_found():
    assert len(list(_written_actions())) > 100


@pytest.mark.django_db
def test_an_action_outside_the_list_is_refused():
    with pytest.raises(ValueError):
        audit_record(actor=None, action="facility.craete", object_type="x", object_id=1)
    assert not AuditEvent.objects.exists()


def test_the_stored_values_stay_as_they_were():
    """The values are in stored rows and in the hash chain (mcnet.audit.event_hash)."""
    assert AuditAction.PATIENT_OPEN_RECORD == "patient.open_record"
    assert AuditAction.ENROLLMENT_NOTICE_AUTO_SUBMIT.value == "enrollment.notice.auto_submit"
    assert all(member.name == member.value.upper().replace(".", "_") for member in AuditAction)
