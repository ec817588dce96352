"""Pages of the printed forms: ask for a PDF, watch it being made, download it.

Thin: permission questions go to selectors (404 when the user may not see the object, so its
existence does not leak), writes to services. The progress page works without JavaScript (it
reloads itself) and with it (static/printing/progress.js polls the JSON status).
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consents import services as consent_services
from consents.models import PatientRequest
from devices import selectors as device_selectors
from enrollment.selectors import application_for_token
from mcnet.models import GeneratedDocument
from mcnet.uploads import private_file_response

from . import registry, selectors, services
from .forms import besshi1, besshi2, takeout

State = GeneratedDocument.State
# Without JavaScript the progress page reloads itself this often (seconds).
RELOAD_SECONDS = 3
# Forms whose stored context is also handed out as a JSON file (§33: machine-readable).
MACHINE_READABLE = ("disclosure",)


@login_required
@require_GET
def index(request):
    """Every form, blank or filled from what this user may print, and their recent PDFs."""
    query = request.GET.get("q", "").strip()[:50]
    facilities = selectors.facilities_for_forms(request.user, query)
    # The forms offered blank; those printed only for one object (a patient's request) are not.
    forms = [registry.get(code) for code in registry.FORM_CODES]
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
    return redirect("printing:detail", pk=document.pk)


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
    url = reverse("printing:detail", args=[document.pk])
    back = _local_path(request, request.POST.get("back", ""))
    return redirect(f"{url}?{urlencode({'back': back})}" if back else url)


def _local_path(request, path: str) -> str:
    """A path of this site to go back to after printing (the object's page), or ""."""
    if not path.startswith("/") or path.startswith("//"):
        return ""
    if not url_has_allowed_host_and_scheme(path, allowed_hosts={request.get_host()}):
        return ""
    return path


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
    return redirect("printing:detail", pk=document.pk)


def _status(document: GeneratedDocument) -> dict:
    total = max(document.progress_total, 1)
    done = total if document.state == State.READY else min(document.progress_done, total)
    # Cut off (worker killed, broker or database lost) and waiting for the sweep or a retry:
    # said in words, so a count that does not move is not mistaken for work going on.
    resume = services.document_waits_to_resume(document)
    return {
        "id": document.pk,
        "state": document.state,
        "label": _("再開待ち") if resume else str(document.get_state_display()),
        "waiting_to_resume": resume,
        "message": document.message,
        "done": done,
        "total": total,
        "percent": int(done * 100 / total),
        "finished": document.is_finished,
        "download_url": (
            reverse("printing:download", args=[document.pk])
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
    return render(
        request,
        "printing/detail.html",
        {
            "document": document,
            "status": _status(document),
            "reload_seconds": RELOAD_SECONDS,
            "back": _local_path(request, request.GET.get("back", "")),
        },
    )


@never_cache
@login_required
@require_GET
def status(request, pk):
    document = selectors.document_for(request.user, pk)
    return JsonResponse(_status(document))


@never_cache
@login_required
@require_GET
def download(request, pk):
    document = selectors.document_for(request.user, pk)
    if document.state != State.READY or not document.file:
        raise Http404
    services.document_downloaded(actor=request.user, document=document)
    name = f"{document.title}.pdf".replace("/", "_")
    return private_file_response(document.file, download_name=name)


@login_required
@require_POST
def retry(request, pk):
    document = selectors.document_for(request.user, pk)
    if document.state != State.FAILED:
        return redirect("printing:detail", pk=document.pk)
    services.document_retry(actor=request.user, document=document)
    return redirect("printing:detail", pk=document.pk)


# --- 別紙6 ご本人の照会: the disclosure package (個人情報保護法 §33) ----------------------------


@login_required
@require_POST
def patient_request_disclosure(request, pk):
    """Prepare the package for a request whose asker's identity was checked: the request is
    now being answered (対応中), the PDF is made by the worker (progress on the next page)."""
    target = registry.get("disclosure").target_for(PatientRequest)
    patient_request = target.visible_to(request.user).filter(pk=pk).first()
    if patient_request is None or not patient_request.is_open:
        raise Http404
    consent_services.patient_request_start(
        actor=request.user, patient_request=patient_request, step="disclosure"
    )
    document = services.document_request_for(
        actor=request.user, code="disclosure", target=target, obj=patient_request
    )
    return redirect("printing:detail", pk=document.pk)


@never_cache
@login_required
@require_GET
def data(request, pk):
    """The machine-readable file of a disclosure package: the very context its PDF printed,
    as JSON, for the same people who may download the PDF (and access-logged the same)."""
    document = selectors.document_for(request.user, pk)
    if document.form_code not in MACHINE_READABLE:
        raise Http404
    services.document_downloaded(actor=request.user, document=document)
    body = json.dumps(document.data, ensure_ascii=False, indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="disclosure-{document.pk}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- previews: a form as it prints, on a page -----------------------------------------------
# The body of the printed form's own template (templates/forms/<code>.html), filled by the
# form's builder, so a preview and the PDF say the same words.
def _printed_body(code: str, context: dict) -> str:
    html = render_to_string(registry.get(code).template, context)
    body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    # The template escaped every value it put in; the page shows that markup as it is.
    return mark_safe(body)  # noqa: S308


@login_required
def takeout_preview(request, pk):
    """The request as it prints (第12条(9)); only whoever may see the request sees it."""
    request_obj = device_selectors.takeout_for_viewer(request.user, pk)
    with translation.override("ja"):  # the forms are Japanese, whoever asks
        body = _printed_body("takeout", takeout.for_request(request_obj))
    return render(request, "printing/takeout_preview.html", {"req": request_obj, "form_html": body})


@never_cache
@require_GET
def application_preview(request, token):
    """別紙1 and 別紙2 of an application as they print, for the applicant (the status page's
    link; no account yet) to print, seal (印) and sign; 404 for any other link."""
    application = application_for_token(token)
    with translation.override("ja"):
        sheets = [
            _printed_body("besshi1", besshi1.for_application(application)),
            _printed_body("besshi2", besshi2.for_application(application)),
        ]
    return render(request, "printing/application_preview.html", {"token": token, "sheets": sheets})
