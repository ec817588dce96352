"""Pages of the consents app: patients and their consents (別紙7).

A patient's page is for those who see the patient (consents.selectors); the consent and its
scan for those who handle the paper. Every opening of a patient's details is in the access log.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mcnet.actions import detail_or_list, form_action, post_action
from mcnet.forms import posted, query_choice, query_text
from mcnet.models import GeneratedDocument
from mcnet.pagination import requested_page
from mcnet.picker import posted_as_initial, search_field_name, search_requested
from mcnet.uploads import private_file_response

from . import permissions, selectors, services
from .forms import (
    AcademicWithdrawalForm,
    AddendumForm,
    ConsentForm,
    CoveredFacilitiesForm,
    EnteredInErrorForm,
    IdentityCheckForm,
    PatientForm,
    PatientRequestForm,
    RecordOpenForm,
    RequestCloseForm,
    RequestEraseForm,
    RequestStopUseForm,
    SignedPaperForm,
    WithdrawalForm,
)
from .models import Consent, ConsentAddendum, PatientRequest
from .permissions import OpeningPurpose, patient_groups

FIELD_FOR_CODE = {"relationship": "signer_relationship", "scan": "scan", "covered": None}


PATIENTS_PER_PAGE = 100


@login_required
@require_GET
def patient_list(request):
    query = query_text(request)
    care = query_choice(
        request, "care", (selectors.IN_CARE, selectors.OUT_OF_CARE), selectors.IN_CARE
    )
    sort = query_choice(request, "sort", selectors.PATIENT_SORTS, "kana")
    page = requested_page(
        request,
        selectors.patient_list_for(request.user, query=query, care=care, sort=sort),
        PATIENTS_PER_PAGE,
    )
    return render(
        request,
        "consents/patient_list.html",
        {
            "patients": page,
            "page": page,
            "pager_query": urlencode({"care": care, "q": query, "sort": sort}),
            "query": query,
            "care": care,
            "sort": sort,
            "can_register": selectors.registering_facilities_of(request.user).exists(),
            "has_patient_requests": selectors.patient_requests_handled_by(request.user).exists(),
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
    done = form_action(
        request,
        form,
        lambda data: services.patient_register(actor=request.user, **data),
        success=lambda patient: (
            _("%(name)s さんを登録しました。続けて同意書（別紙7）を記録してください。")
            % {"name": patient.name}
        ),
        then=lambda patient: redirect("consents:consent_create", pk=patient.pk),
    )
    return done or render(request, "consents/patient_form.html", {"form": form, "creating": True})


def _closed_record_or_404(request, patient_pk: int):
    """Access ends with care: a custodian of a closed record is asked the purpose of opening it
    first (consents.permissions); anyone else gets the 404 they would get for no record."""
    if not permissions.may_open_closed_record(request.user, patient_pk):
        raise Http404
    url = reverse("consents:record_open", args=[patient_pk])
    return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


@login_required
@require_http_methods(["GET", "POST"])
def record_open(request, pk: int):
    """The custodian states why they open a record whose care has ended (access-logged). The
    page shows the record's number only, nothing of the patient."""
    patient = selectors.closed_record_for_custodian(request.user, pk)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = RecordOpenForm(posted(request), initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        services.closed_record_open(
            actor=request.user, patient=patient, purpose=form.cleaned_data["purpose"]
        )
        return redirect(next_url or reverse("consents:patient_detail", args=[patient.pk]))
    return render(
        request,
        "consents/record_open.html",
        {"form": form, "patient_pk": patient.pk, "next": next_url},
    )


@login_required
@require_GET
def patient_detail(request, pk: int):
    try:
        patient = selectors.patient_for_viewer(request.user, pk)
    except Http404:
        return _closed_record_or_404(request, pk)
    services.patient_access_record(
        actor=request.user, patient=patient, via="consents:patient_detail"
    )
    can_manage = permissions.can_manage_patient(request.user, patient)
    context = {
        "patient": patient,
        "can_manage": can_manage,
        "consent": selectors.active_consent_of(patient),
        "groups": list(patient_groups().groups_of_patient_for(request.user, patient)),
    }
    if can_manage:
        context["consents"] = list(
            patient.consents.select_related("explainer_facility").prefetch_related(
                "covered_facilities"
            )
        )
        context["academic_consents"] = list(patient.academic_consents.all())
        context["academic_active"] = selectors.active_academic_consent_of(patient)
    # 別紙6 ご本人の照会: the custodians record and answer the patient's requests.
    if selectors.patients_in_custody_of(request.user).filter(pk=patient.pk).exists():
        context["patient_requests"] = list(
            selectors.patient_requests_handled_by(request.user).filter(patient=patient)
        )
        context["can_receive_request"] = not patient.is_erased
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
    done = form_action(
        request,
        form,
        lambda data: services.patient_update(actor=request.user, patient=patient, **data),
        success=_("患者の情報を更新しました。"),
        then=redirect("consents:patient_detail", pk=patient.pk),
    )
    return done or render(
        request, "consents/patient_form.html", {"form": form, "patient": patient, "creating": False}
    )


# Said when a picker's search (without script) shows the form again: nothing is recorded yet.
SEARCH_NOT_SAVED = gettext_lazy(
    "事業所を検索しました。まだ記録していません。選び終えたら、下のボタンで記録してください。"
)


@login_required
@require_http_methods(["GET", "POST"])
def consent_create(request, pk: int):
    patient = selectors.patient_for_manager(request.user, pk)
    if patient.is_erased:
        raise Http404
    explainer_facilities = selectors.explainer_facilities_for(request.user, patient)
    in_care = list(selectors.facilities_in_care_of(patient))
    initial = {
        "signed_on": timezone.localdate(),
        "explainer_facility": patient.facility_id,
        "explainer_name": request.user.name,
        "explainer_phone": request.user.phone or patient.facility.phone,
        "covered_facilities": [f.pk for f in in_care],
    }
    picker = {
        "explainer_facilities": explainer_facilities,
        "viewer": request.user,
        "shown_facilities": in_care,
    }
    if search_requested(request, "covered_facilities"):
        # The picker's own button (no script): show the form again with the matches, unsaved.
        messages.info(request, SEARCH_NOT_SAVED)
        form = ConsentForm(
            initial=posted_as_initial(request),
            facility_query=request.POST.get(search_field_name("covered_facilities"), ""),
            **picker,
        )
    else:
        form = ConsentForm(posted(request), posted(request, files=True), initial=initial, **picker)
    done = form_action(
        request,
        form,
        lambda data: services.consent_record(actor=request.user, patient=patient, **data),
        success=_("同意書を記録しました。"),
        then=redirect("consents:patient_detail", pk=patient.pk),
        refusal_field=FIELD_FOR_CODE,
    )
    return done or render(
        request,
        "consents/consent_form.html",
        {
            "form": form,
            "patient": patient,
            "has_active": bool(selectors.active_consent_of(patient)),
        },
    )


def _patient_id_of_consent(pk: int) -> int:
    patient_id = Consent.objects.filter(pk=pk).values_list("patient_id", flat=True).first()
    if patient_id is None:
        raise Http404
    return patient_id


@login_required
@require_GET
def consent_detail(request, pk: int):
    try:
        consent = selectors.consent_for_manager(request.user, pk)
    except Http404:
        return _closed_record_or_404(request, _patient_id_of_consent(pk))
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
            "addenda": list(consent.addenda.prefetch_related("facilities")),
            "academic_consents": list(consent.patient.academic_consents.all()),
        },
    )


@login_required
@require_GET
def consent_scan(request, pk: int):
    """The signed paper's scan, streamed only after the permission check (no public URL)."""
    try:
        consent = selectors.consent_for_manager(request.user, pk)
    except Http404:
        return _closed_record_or_404(request, _patient_id_of_consent(pk))
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
    done = form_action(
        request,
        form,
        lambda data: services.consent_cover_facilities(
            actor=request.user, consent=consent, facilities=data["covered_facilities"]
        ),
        success=_("同意の対象事業所を更新しました。"),
        then=redirect("consents:consent_detail", pk=consent.pk),
        refusal_field="covered_facilities",
    )
    return done or render(
        request, "consents/consent_facilities.html", {"form": form, "consent": consent}
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk: int):
    """別紙5: withdrawal at any time; the patient's group is to be archived at once."""
    consent = selectors.consent_for_manager(request.user, pk)
    if not consent.is_active:
        raise Http404
    form = WithdrawalForm(posted(request), initial={"withdrawn_on": timezone.localdate()})
    done = form_action(
        request,
        form,
        lambda data: services.consent_withdraw(actor=request.user, consent=consent, **data),
        success=_(
            "同意の撤回を記録しました。患者グループはアーカイブ予定になり、"
            "事業所のMCS管理者とメンバーに通知しました。"
        ),
        # Access ended with the consent (別紙5 (2)): the custodians open it with a purpose.
        then=redirect("consents:patient_list"),
    )
    return done or render(
        request, "consents/consent_withdraw.html", {"form": form, "consent": consent}
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_error(request, pk: int):
    consent = selectors.consent_for_manager(request.user, pk)
    if consent.status == Consent.Status.ENTERED_IN_ERROR:
        raise Http404
    form = EnteredInErrorForm(posted(request))
    done = form_action(
        request,
        form,
        lambda data: services.consent_mark_entered_in_error(
            actor=request.user, consent=consent, reason=data["reason"]
        ),
        success=_("同意書を誤登録として記録しました。"),
        then=lambda _result: detail_or_list(
            selectors.patients_visible_to(request.user),
            consent.patient_id,
            "consents:patient_detail",
            "consents:patient_list",
        ),
        refusal_field="reason",
    )
    return done or render(
        request, "consents/consent_error.html", {"form": form, "consent": consent}
    )


# --- 追加同意書 and the academic-use consent (別紙7, 留意事項 医療介護情報の取り扱い (3)) ---------


@login_required
@require_http_methods(["GET", "POST"])
def addendum_create(request, pk: int):
    """Widening the covered facilities starts with an addendum to print and have signed."""
    consent = selectors.consent_for_manager(request.user, pk)
    if not consent.is_active:
        raise Http404
    if search_requested(request, "facilities"):
        messages.info(request, SEARCH_NOT_SAVED)
        form = AddendumForm(
            initial=posted_as_initial(request),
            consent=consent,
            viewer=request.user,
            facility_query=request.POST.get(search_field_name("facilities"), ""),
        )
    else:
        form = AddendumForm(posted(request), consent=consent, viewer=request.user)
    done = form_action(
        request,
        form,
        lambda data: services.consent_addendum_prepare(
            actor=request.user, consent=consent, facilities=data["facilities"]
        ),
        success=_(
            "追加同意書を作成しました。印刷して署名を得たら、署名済みとして記録してください。"
        ),
        then=lambda addendum: redirect("consents:addendum_detail", pk=addendum.pk),
        refusal_field="facilities",
    )
    return done or render(
        request, "consents/addendum_form.html", {"form": form, "consent": consent}
    )


@login_required
@require_GET
def addendum_detail(request, pk: int):
    addendum = selectors.addendum_for_manager(request.user, pk)
    services.patient_access_record(
        actor=request.user, patient=addendum.consent.patient, via="consents:addendum_detail"
    )
    return render(
        request,
        "consents/addendum_detail.html",
        {
            "addendum": addendum,
            "consent": addendum.consent,
            "patient": addendum.consent.patient,
            "facilities": list(addendum.facilities.order_by("name")),
            "form": SignedPaperForm(initial={"signed_on": timezone.localdate()}),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def addendum_sign(request, pk: int):
    """Record that the addendum was signed: the scan, or 「原本を事業所で保管」."""
    addendum = selectors.addendum_for_manager(request.user, pk)
    if addendum.state != ConsentAddendum.State.PENDING:
        raise Http404
    form = SignedPaperForm(
        posted(request),
        posted(request, files=True),
        initial={"signed_on": timezone.localdate()},
    )
    done = form_action(
        request,
        form,
        lambda data: services.consent_addendum_record_signed(
            actor=request.user, addendum=addendum, **data
        ),
        success=_("追加同意書を署名済みとして記録しました。追加した事業所の職員を招待できます。"),
        then=redirect("consents:consent_detail", pk=addendum.consent_id),
        refusal_field=FIELD_FOR_CODE,
    )
    return done or render(
        request,
        "consents/signed_paper_form.html",
        {
            "form": form,
            "patient": addendum.consent.patient,
            "title": _("追加同意書の署名を記録"),
            "back": ("consents:addendum_detail", addendum.pk),
        },
    )


@login_required
@require_POST
def addendum_cancel(request, pk: int):
    addendum = selectors.addendum_for_manager(request.user, pk)
    return post_action(
        request,
        lambda: services.consent_addendum_cancel(actor=request.user, addendum=addendum),
        success=_("追加同意書を取り消しました。"),
        then=redirect("consents:consent_detail", pk=addendum.consent_id),
    )


@login_required
@require_GET
def addendum_scan(request, pk: int):
    addendum = selectors.addendum_for_manager(request.user, pk)
    if not addendum.scan:
        raise Http404
    services.patient_access_record(
        actor=request.user, patient=addendum.consent.patient, via="consents:addendum_scan"
    )
    extension = addendum.scan.name.rsplit(".", 1)[-1]
    return private_file_response(
        addendum.scan, download_name=f"addendum-{addendum.pk}.{extension}", as_attachment=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def academic_create(request, pk: int):
    """The academic-use consent signed on its own page (or again after a withdrawal)."""
    patient = selectors.patient_for_manager(request.user, pk)
    if patient.is_erased or selectors.active_academic_consent_of(patient):
        raise Http404
    form = SignedPaperForm(
        posted(request),
        posted(request, files=True),
        initial={"signed_on": timezone.localdate()},
    )
    done = form_action(
        request,
        form,
        lambda data: services.academic_consent_record(actor=request.user, patient=patient, **data),
        success=_("学術利用への同意を記録しました。"),
        then=redirect("consents:patient_detail", pk=patient.pk),
        refusal_field=FIELD_FOR_CODE,
    )
    return done or render(
        request,
        "consents/signed_paper_form.html",
        {
            "form": form,
            "patient": patient,
            "title": _("学術利用への同意を記録"),
            "back": ("consents:patient_detail", patient.pk),
            "print_academic": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def academic_withdraw(request, pk: int):
    """Withdrawal of the academic-use consent alone: care consent and groups stay."""
    record = selectors.academic_consent_for_manager(request.user, pk)
    if not record.is_active:
        raise Http404
    form = AcademicWithdrawalForm(posted(request), initial={"withdrawn_on": timezone.localdate()})
    done = form_action(
        request,
        form,
        lambda data: services.academic_consent_withdraw(
            actor=request.user, academic_consent=record, **data
        ),
        success=_(
            "学術利用への同意の撤回を記録しました。MC ネットの利用への同意は有効なままです。"
        ),
        then=redirect("consents:patient_detail", pk=record.patient_id),
    )
    return done or render(
        request,
        "consents/academic_withdraw.html",
        {"form": form, "record": record, "patient": record.patient},
    )


# --- 別紙6 ご本人の照会: the patient's own requests (個人情報保護法 §33–35) ----------------------
# For the custodians only (selectors.patient_requests_handled_by); 404 for anyone else.


PATIENT_REQUESTS_PER_PAGE = 50


@login_required
@require_GET
def patient_request_list(request):
    state = query_choice(request, "state", ("open", "closed", "all"), "open")
    query = query_text(request)
    sort = query_choice(request, "sort", selectors.PATIENT_REQUEST_SORTS, "due")
    page = requested_page(
        request,
        selectors.patient_request_list_for(request.user, state=state, query=query, sort=sort),
        PATIENT_REQUESTS_PER_PAGE,
    )
    return render(
        request,
        "consents/request_list.html",
        {
            "requests": page,
            "page": page,
            "pager_query": urlencode({"state": state, "q": query, "sort": sort}),
            "state": state,
            "query": query,
            "sort": sort,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_create(request, pk: int):
    """Record a request the patient, family or agent made in person, by phone or in writing."""
    patient = selectors.patient_for_custodian(request.user, pk)
    form = PatientRequestForm(
        posted(request), initial={"received_on": timezone.localdate(), "kind": "disclosure"}
    )
    done = form_action(
        request,
        form,
        lambda data: services.patient_request_receive(actor=request.user, patient=patient, **data),
        success=lambda patient_request: (
            _("請求を受け付けました。回答期限は %(due)s です。続けて本人確認を記録してください。")
            % {"due": patient_request.due_on.strftime("%Y/%m/%d")}
        ),
        then=lambda patient_request: redirect(
            "consents:patient_request_detail", pk=patient_request.pk
        ),
        refusal_field=REQUEST_FIELD_FOR_CODE,
    )
    return done or render(request, "consents/request_form.html", {"form": form, "patient": patient})


REQUEST_FIELD_FOR_CODE = {
    "relationship": "requester_relationship",
    "requester_name": "requester_name",
    "received_on": "received_on",
    "note": "note",
}


def _documents_of(patient_request: PatientRequest) -> dict:
    """The latest disclosure package and reply letter printed for the request (the printing
    app's download checks the same custodians again)."""
    documents = GeneratedDocument.objects.filter(
        content_type__app_label="consents",
        content_type__model="patientrequest",
        object_id=patient_request.pk,
    ).order_by("-created_at", "-pk")
    return {
        "disclosure_document": documents.filter(form_code="disclosure").first(),
        "reply_document": documents.filter(form_code="request_reply").first(),
    }


@login_required
@require_GET
def patient_request_detail(request, pk: int):
    patient_request = selectors.patient_request_for(request.user, pk)
    patient = patient_request.patient
    if not patient.is_erased and permissions.may_open_closed_record(request.user, patient.pk):
        # Access ends with care: a closed record is opened with its purpose, the request.
        services.closed_record_open(
            actor=request.user, patient=patient, purpose=OpeningPurpose.PATIENT_REQUEST
        )
    elif not patient.is_erased:
        services.patient_access_record(
            actor=request.user, patient=patient, via="consents:patient_request_detail"
        )
    context = {
        "req": patient_request,
        "patient": patient_request.patient,
        "today": timezone.localdate(),
        "identity_form": IdentityCheckForm(),
        "close_form": RequestCloseForm(
            initial={"replied_on": timezone.localdate(), "state": PatientRequest.State.ANSWERED}
        ),
        **_documents_of(patient_request),
    }
    return render(request, "consents/request_detail.html", context)


def _request_step(request, pk: int, form_class, template: str, act, *, initial=None, kind=None):
    """One step on a request: a form, a service call, back to the request on success."""
    patient_request = selectors.patient_request_for(request.user, pk)
    if not patient_request.is_open or (kind and patient_request.kind != kind):
        raise Http404
    form = form_class(posted(request), initial=initial)
    done = form_action(
        request,
        form,
        lambda data: act(patient_request, data),
        success=lambda message: message,
        then=redirect("consents:patient_request_detail", pk=patient_request.pk),
        refusal_field=REQUEST_FIELD_FOR_CODE,
    )
    return done or render(
        request,
        template,
        {"form": form, "req": patient_request, "patient": patient_request.patient},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_verify(request, pk: int):
    def act(patient_request, data):
        services.patient_request_verify_identity(
            actor=request.user, patient_request=patient_request, **data
        )
        return _("本人確認を記録しました。")

    return _request_step(request, pk, IdentityCheckForm, "consents/request_identity.html", act)


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_correct(request, pk: int):
    """§34 訂正: the patient's record corrected, the request linked."""
    patient_request = selectors.patient_request_for(request.user, pk)
    patient = patient_request.patient
    if patient.is_erased:
        raise Http404
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}

    def act(patient_request, data):
        services.patient_request_correct(
            actor=request.user, patient_request=patient_request, **data
        )
        return _("患者の情報を訂正しました。回答を記録し、回答書を印刷してください。")

    return _request_step(
        request,
        pk,
        PatientForm,
        "consents/request_correct.html",
        act,
        initial=initial,
        kind=PatientRequest.Kind.CORRECTION,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_stop_use(request, pk: int):
    """§35 利用停止: the consent is withdrawn (別紙5), the request linked."""

    def act(patient_request, data):
        services.patient_request_stop_use(
            actor=request.user, patient_request=patient_request, **data
        )
        return _("同意の撤回（利用停止）を記録しました。患者グループはアーカイブ予定になりました。")

    return _request_step(
        request,
        pk,
        RequestStopUseForm,
        "consents/request_stop_use.html",
        act,
        initial={"withdrawn_on": timezone.localdate()},
        kind=PatientRequest.Kind.STOP_USE,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_erase(request, pk: int):
    """§35 消去: the patient's personal data erased now, everywhere."""

    def act(patient_request, data):
        services.patient_request_erase(actor=request.user, patient_request=patient_request)
        return _("患者の個人情報を削除し、請求を回答済みにしました。")

    return _request_step(
        request,
        pk,
        RequestEraseForm,
        "consents/request_erase.html",
        act,
        kind=PatientRequest.Kind.DELETION,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_request_close(request, pk: int):
    def act(patient_request, data):
        services.patient_request_close(actor=request.user, patient_request=patient_request, **data)
        return _("回答を記録しました。")

    return _request_step(
        request,
        pk,
        RequestCloseForm,
        "consents/request_close.html",
        act,
        initial={"replied_on": timezone.localdate(), "state": PatientRequest.State.ANSWERED},
    )
