"""The rules in force, for every signed-in user; publishing a new version, for the center
(第15条). Thin: a selector reads, a service writes."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mcnet.actions import form_action
from mcnet.forms import picked
from mcnet.models import NetworkSettings

from . import selectors, services, text
from .forms import RulePublishForm, network_document_or_none
from .models import Document
from .permissions import may_publish_network_rules


def _network_values() -> dict:
    network = NetworkSettings.load()
    return {field: getattr(network, field, "") for field in text.PLACEHOLDERS.values()}


def _document(document: str) -> tuple[str, str]:
    if network_document_or_none(document) is None:
        raise Http404
    return document, Document(document).label


@login_required
@require_GET
def rules_index(request):
    return render(
        request,
        "rulebook/index.html",
        {
            "documents": selectors.network_documents_in_force(),
            "upcoming": selectors.upcoming_versions(),
            "is_center": request.user.is_center_staff,
        },
    )


@login_required
@require_GET
def rules_document(request, document):
    document, label = _document(document)
    versions = list(selectors.versions_of(document))
    in_force = selectors.version_in_force(document)
    shown = in_force
    number = request.GET.get("version", "")
    if number:
        shown = next((v for v in versions if str(v.number) == number.strip()), None)
        if shown is None:
            raise Http404
    return render(
        request,
        "rulebook/document.html",
        {
            "document": document,
            "label": label,
            "version": shown,
            "in_force": in_force,
            "blocks": text.fill(shown.blocks, _network_values()),
            "versions": versions,
            "is_center": request.user.is_center_staff,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rules_publish(request, document):
    if not may_publish_network_rules(request.user):
        raise Http404  # a page that is not there for anyone else (第15条)
    document, label = _document(document)
    current = selectors.version_in_force(document)
    latest = selectors.versions_of(document).first() or current
    form = RulePublishForm(request.POST or None, initial={"source": text.unparse(latest.blocks)})
    done = form_action(
        request,
        form,
        lambda data: services.rule_version_publish(
            actor=request.user,
            document=document,
            **picked(data, "source", "approved_on", "effective_on", "summary"),
        ),
        success=lambda version: (
            _("%(label)s 第%(number)d版を登録しました（%(date)s 施行）。")
            % {
                "label": label,
                "number": version.number,
                "date": version.effective_on.strftime("%Y-%m-%d"),
            }
        ),
        then=redirect("rulebook:document", document=document),
    )
    return done or render(
        request,
        "rulebook/publish.html",
        {"document": document, "label": label, "form": form, "current": current},
    )
