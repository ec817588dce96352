"""Pages of the consents app: patients and their consents (別紙7).

A patient's page is for those who see the patient (consents.selectors); the consent and its
scan for those who handle the paper. Every opening of a patient's details is in the access log.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mcnet.forms import add_refusal, posted
from mcnet.uploads import private_file_response

from . import selectors, services
from .forms import (
    ConsentForm,
    CoveredFacilitiesForm,
    EnteredInErrorForm,
    PatientForm,
    WithdrawalForm,
)
from .models import Consent

FIELD_FOR_CODE = {"relationship": "signer_relationship", "scan": "scan", "covered": None}


@login_required
@require_GET
def patient_list(request):
    query = request.GET.get("q", "")[:100]
    patients = list(selectors.patient_list_for(request.user, query=query)[:200])
    return render(
        request,
        "consents/patient_list.html",
        {
            "patients": patients,
            "query": query,
            "can_register": selectors.registering_facilities_of(request.user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request):
    """基本設定 3: a patient-group manager registers a patient at their own facility."""
    facilities = selectors.registering_facilities_of(request.user)
    if not facilities.exists():
        raise PermissionDenied
    form = PatientForm(posted(request), facilities=facilities)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            patient = services.patient_register(actor=request.user, **data)
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s さんを登録しました。続けて同意書（別紙7）を記録してください。")
                % {"name": patient.name},
            )
            return redirect("consents:consent_create", pk=patient.pk)
    return render(request, "consents/patient_form.html", {"form": form, "creating": True})


@login_required
@require_GET
def patient_detail(request, pk: int):
    patient = selectors.patient_for_viewer(request.user, pk)
    services.patient_access_record(
        actor=request.user, patient=patient, via="consents:patient_detail"
    )
    can_manage = selectors.can_manage_patient(request.user, patient)
    context = {
        "patient": patient,
        "can_manage": can_manage,
        "consent": selectors.active_consent_of(patient),
        "groups": list(selectors.groups_of_patient_for(request.user, patient)),
    }
    if can_manage:
        context["consents"] = list(
            patient.consents.select_related("explainer_facility").prefetch_related(
                "covered_facilities"
            )
        )
    return render(request, "consents/patient_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, pk: int):
    """A correction; a patient group's name follows the name (留意事項 1 (1))."""
    patient = selectors.patient_for_manager(request.user, pk)
    if patient.is_erased:
        raise Http404
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    form = PatientForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("患者の情報を更新しました。"))
            return redirect("consents:patient_detail", pk=patient.pk)
    return render(
        request, "consents/patient_form.html", {"form": form, "patient": patient, "creating": False}
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_create(request, pk: int):
    patient = selectors.patient_for_manager(request.user, pk)
    if patient.is_erased:
        raise Http404
    explainer_facilities = selectors.explainer_facilities_for(request.user, patient)
    initial = {
        "signed_on": timezone.localdate(),
        "explainer_facility": patient.facility_id,
        "explainer_name": request.user.name,
        "explainer_phone": request.user.phone or patient.facility.phone,
        "covered_facilities": [patient.facility_id],
    }
    form = ConsentForm(
        posted(request),
        posted(request, files=True),
        initial=initial,
        explainer_facilities=explainer_facilities,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=request.user, patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            add_refusal(form, exc, FIELD_FOR_CODE.get(getattr(exc, "code", None)))
        else:
            messages.success(request, _("同意書を記録しました。"))
            return redirect("consents:patient_detail", pk=patient.pk)
    return render(
        request,
        "consents/consent_form.html",
        {
            "form": form,
            "patient": patient,
            "has_active": bool(selectors.active_consent_of(patient)),
        },
    )


@login_required
@require_GET
def consent_detail(request, pk: int):
    consent = selectors.consent_for_manager(request.user, pk)
    services.patient_access_record(
        actor=request.user, patient=consent.patient, via="consents:consent_detail"
    )
    return render(
        request,
        "consents/consent_detail.html",
        {
            "consent": consent,
            "patient": consent.patient,
            "covered": list(consent.covered_facilities.order_by("name")),
        },
    )


@login_required
@require_GET
def consent_scan(request, pk: int):
    """The signed paper's scan, streamed only after the permission check (no public URL)."""
    consent = selectors.consent_for_manager(request.user, pk)
    if not consent.scan:
        raise Http404
    services.patient_access_record(
        actor=request.user, patient=consent.patient, via="consents:consent_scan"
    )
    extension = consent.scan.name.rsplit(".", 1)[-1]
    return private_file_response(
        consent.scan, download_name=f"consent-{consent.pk}.{extension}", as_attachment=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_facilities(request, pk: int):
    consent = selectors.consent_for_manager(request.user, pk)
    if not consent.is_active:
        raise Http404
    form = CoveredFacilitiesForm(
        posted(request),
        initial={
            "covered_facilities": list(consent.covered_facilities.values_list("pk", flat=True))
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_cover_facilities(
                actor=request.user,
                consent=consent,
                facilities=form.cleaned_data["covered_facilities"],
            )
        except ValidationError as exc:
            add_refusal(form, exc, "covered_facilities")
        else:
            messages.success(request, _("同意の対象事業所を更新しました。"))
            return redirect("consents:consent_detail", pk=consent.pk)
    return render(request, "consents/consent_facilities.html", {"form": form, "consent": consent})


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk: int):
    """別紙5: withdrawal at any time; the patient's group is to be archived at once."""
    consent = selectors.consent_for_manager(request.user, pk)
    if not consent.is_active:
        raise Http404
    form = WithdrawalForm(posted(request), initial={"withdrawn_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(actor=request.user, consent=consent, **form.cleaned_data)
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                _(
                    "同意の撤回を記録しました。患者グループはアーカイブ予定になり、"
                    "事業所のMCS管理者とメンバーに通知しました。"
                ),
            )
            return redirect("consents:consent_detail", pk=consent.pk)
    return render(request, "consents/consent_withdraw.html", {"form": form, "consent": consent})


@login_required
@require_http_methods(["GET", "POST"])
def consent_error(request, pk: int):
    consent = selectors.consent_for_manager(request.user, pk)
    if consent.status == Consent.Status.ENTERED_IN_ERROR:
        raise Http404
    form = EnteredInErrorForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_mark_entered_in_error(
                actor=request.user, consent=consent, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_refusal(form, exc, "reason")
        else:
            messages.success(request, _("同意書を誤登録として記録しました。"))
            return redirect("consents:patient_detail", pk=consent.patient_id)
    return render(request, "consents/consent_error.html", {"form": form, "consent": consent})
