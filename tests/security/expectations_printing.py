"""Permission expectations for the printed forms (mcnet/printing, /documents/).

A document is seen by whoever may see the object it was printed for: here 高田's 別紙3 (its
staff list), printed by those who sign or keep it — 高田's MCS administrator (also its facility
manager) and the center — and by nobody else, not even 高田's own nurse. Blank forms are for
every signed-in user; the batch over every facility is the center's.
"""

from .expectations_base import *  # noqa: F403
from .expectations_base import DENIED, OK, REDIRECT, Expect, signed_in

TAKADA = "高田訪問看護ステーション"


def _takada() -> dict:
    from facilities.models import Facility

    return {"code": "besshi3", "object_id": Facility.objects.get(name=TAKADA).pk}


def _kasugano_pending() -> dict:
    from facilities.models import Facility

    scope = Facility.objects.get(name="春日野居宅介護支援事業所").pk
    return {"key": "besshi7-pending", "scope_id": scope}


def _document(state: str = "queued") -> dict:
    """高田's 別紙3, asked for by its MCS administrator, in the given state."""
    from django.core.files.base import ContentFile

    from facilities.models import Facility, User
    from mcnet.printing import registry, services

    facility = Facility.objects.get(name=TAKADA)
    document = services.document_request_for(
        actor=User.objects.get(email="admin@takada.example.jp"),
        code="besshi3",
        target=registry.get("besshi3").target_for("facilities.Facility"),
        obj=facility,
    )
    if state == "ready" and not document.file:
        document.file.save("matrix.pdf", ContentFile(b"%PDF-1.4 matrix"), save=False)
    document.state = state
    document.save()
    return {"pk": document.pk}


# 高田's papers: its MCS administrator and facility manager, and the center.
TAKADA_PAPERS = {**signed_in(DENIED), "mcs_admin": OK, "center": OK}


def _as(outcomes: dict, outcome: str) -> dict:
    return {role: (outcome if value == OK else value) for role, value in outcomes.items()}


EXPECTATIONS: dict = {
    "printing:index": Expect(signed_in(OK)),
    "printing:request": Expect(signed_in(REDIRECT), kwargs={"code": "besshi1"}, method="post"),
    "printing:request_for": Expect(
        _as(TAKADA_PAPERS, REDIRECT),
        kwargs=_takada,
        method="post",
        data={"model": "facilities.Facility"},
    ),
    "printing:batch": Expect(
        {**signed_in(DENIED), "center": REDIRECT}, kwargs={"key": "besshi3-all"}, method="post"
    ),
    # Every pending 別紙7 of 春日野: its patient-group manager's (the demo has none pending, so
    # the page says there is nothing to print).
    "printing:batch_for": Expect(
        {**signed_in(DENIED), "group_manager": OK},
        kwargs=_kasugano_pending,
        method="post",
    ),
    "printing:detail": Expect(TAKADA_PAPERS, kwargs=_document),
    "printing:status": Expect(TAKADA_PAPERS, kwargs=_document),
    "printing:download": Expect(TAKADA_PAPERS, kwargs=lambda: _document("ready")),
    "printing:retry": Expect(
        _as(TAKADA_PAPERS, REDIRECT), kwargs=lambda: _document("failed"), method="post"
    ),
}
