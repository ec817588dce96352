"""Pages of the printed forms: ask for a PDF, watch it being made, download it.

Thin: permission questions go to selectors (404 when the user may not see the object, so its
existence does not leak), writes to services. The progress page works without JavaScript (it
reloads itself) and with it (static/printing/progress.js polls the JSON status).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mcnet.models import GeneratedDocument
from mcnet.uploads import private_file_response

from . import registry, selectors, services

State = GeneratedDocument.State
# Without JavaScript the progress page reloads itself this often (seconds).
RELOAD_SECONDS = 3


@login_required
@require_GET
def index(request):
    """Every form, blank or filled from what this user may print, and their recent PDFs."""
    query = request.GET.get("q", "").strip()[:50]
    facilities = selectors.facilities_for_forms(request.user)
    if request.user.is_center_staff and query:
        from . import sources

        facilities = sources.facilities_printable_by(request.user).filter(name__icontains=query)[
            :20
        ]
    forms = list(registry.registry().values())
    facility_forms = [s for s in forms if s.target_for("facilities.Facility")]
    return render(
        request,
        "printing/index.html",
        {
            "forms": forms,
            "facilities": list(facilities),
            "facility_forms": facility_forms,
            "batches": selectors.available_batches(request.user),
            "applications": selectors.applications_for_forms(request.user),
            "application_forms": [("besshi1", "別紙1"), ("besshi2", "別紙2")],
            "documents": selectors.recent_documents_for(request.user),
            "query": query,
        },
    )


@login_required
@require_POST
def request_blank(request, code):
    if code not in registry.FORM_CODES:
        raise Http404
    document = services.document_request_blank(actor=request.user, code=code)
    return redirect("documents:detail", pk=document.pk)


@login_required
@require_POST
def request_for(request, code, object_id):
    """The form filled from one object (the apps' "PDF" buttons post here)."""
    found = selectors.printable_object(
        request.user, code, object_id, model=request.POST.get("model") or None
    )
    if found is None:
        raise Http404
    target, obj = found
    document = services.document_request_for(actor=request.user, code=code, target=target, obj=obj)
    return redirect("documents:detail", pk=document.pk)


@login_required
@require_POST
def request_batch(request, key, scope_id=None):
    found = selectors.batch_scope(request.user, key, scope_id)
    if found is None:
        raise Http404
    batch, scope = found
    objects = batch.items(request.user, scope)
    if not objects.exists():
        return render(
            request, "printing/empty_batch.html", {"batch": batch, "scope": scope}, status=200
        )
    document = services.document_request_batch(
        actor=request.user, batch=batch, scope=scope, objects=objects
    )
    return redirect("documents:detail", pk=document.pk)


def _status(document: GeneratedDocument) -> dict:
    total = max(document.progress_total, 1)
    done = total if document.state == State.READY else min(document.progress_done, total)
    return {
        "id": document.pk,
        "state": document.state,
        "label": str(document.get_state_display()),
        "message": document.message,
        "done": done,
        "total": total,
        "percent": int(done * 100 / total),
        "finished": document.is_finished,
        "download_url": (
            reverse("documents:download", args=[document.pk])
            if document.state == State.READY
            else ""
        ),
        "waiting_for_worker": document.state == State.QUEUED and document.published_at is None,
    }


@never_cache
@login_required
@require_GET
def detail(request, pk):
    document = selectors.document_for(request.user, pk)
    if document is None:
        raise Http404
    return render(
        request,
        "printing/detail.html",
        {
            "document": document,
            "status": _status(document),
            "reload_seconds": RELOAD_SECONDS,
        },
    )


@never_cache
@login_required
@require_GET
def status(request, pk):
    document = selectors.document_for(request.user, pk)
    if document is None:
        raise Http404
    return JsonResponse(_status(document))


@never_cache
@login_required
@require_GET
def download(request, pk):
    document = selectors.document_for(request.user, pk)
    if document is None or document.state != State.READY or not document.file:
        raise Http404
    services.document_downloaded(actor=request.user, document=document)
    name = f"{document.title}.pdf".replace("/", "_")
    return private_file_response(document.file, download_name=name)


@login_required
@require_POST
def retry(request, pk):
    document = selectors.document_for(request.user, pk)
    if document is None:
        raise Http404
    if document.state != State.FAILED:
        return redirect("documents:detail", pk=document.pk)
    services.document_retry(actor=request.user, document=document)
    return redirect("documents:detail", pk=document.pk)
