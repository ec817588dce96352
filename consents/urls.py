from django.urls import path

from . import views

app_name = "consents"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_create, name="patient_create"),
    path("<int:pk>/", views.patient_detail, name="patient_detail"),
    path("<int:pk>/edit/", views.patient_edit, name="patient_edit"),
    path("<int:pk>/open/", views.record_open, name="record_open"),
    path("<int:pk>/consents/new/", views.consent_create, name="consent_create"),
    path("consents/<int:pk>/", views.consent_detail, name="consent_detail"),
    path("consents/<int:pk>/scan/", views.consent_scan, name="consent_scan"),
    path("consents/<int:pk>/facilities/", views.consent_facilities, name="consent_facilities"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("consents/<int:pk>/entered-in-error/", views.consent_error, name="consent_error"),
    path("consents/<int:pk>/addenda/new/", views.addendum_create, name="addendum_create"),
    path("addenda/<int:pk>/", views.addendum_detail, name="addendum_detail"),
    path("addenda/<int:pk>/sign/", views.addendum_sign, name="addendum_sign"),
    path("addenda/<int:pk>/cancel/", views.addendum_cancel, name="addendum_cancel"),
    path("addenda/<int:pk>/scan/", views.addendum_scan, name="addendum_scan"),
    path("<int:pk>/academic/new/", views.academic_create, name="academic_create"),
    path("academic/<int:pk>/withdraw/", views.academic_withdraw, name="academic_withdraw"),
    # 別紙6 ご本人の照会 (個人情報保護法 §33–35)
    path("requests/", views.patient_request_list, name="patient_request_list"),
    path("<int:pk>/requests/new/", views.patient_request_create, name="patient_request_create"),
    path("requests/<int:pk>/", views.patient_request_detail, name="patient_request_detail"),
    path(
        "requests/<int:pk>/identity/", views.patient_request_verify, name="patient_request_verify"
    ),
    path(
        "requests/<int:pk>/correct/", views.patient_request_correct, name="patient_request_correct"
    ),
    path(
        "requests/<int:pk>/stop-use/",
        views.patient_request_stop_use,
        name="patient_request_stop_use",
    ),
    path("requests/<int:pk>/erase/", views.patient_request_erase, name="patient_request_erase"),
    path("requests/<int:pk>/close/", views.patient_request_close, name="patient_request_close"),
]
