from django.urls import path

from . import views

app_name = "printing"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/<str:code>/", views.request_blank, name="request"),
    path("new/<str:code>/<int:object_id>/", views.request_for, name="request_for"),
    path("batch/<str:key>/", views.request_batch, name="batch"),
    path("batch/<str:key>/<int:scope_id>/", views.request_batch, name="batch_for"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    path("<int:pk>/data.json", views.data, name="data"),
    # 第12条(9): the take-out request as its form prints.
    path("takeouts/<int:pk>/", views.takeout_preview, name="takeout_preview"),
    # 別紙1・別紙2 as they print, for the applicant's status link (第4条(1)(2)).
    path("applications/<str:token>/", views.application_preview, name="application_preview"),
    path(
        "patient-requests/<int:pk>/disclosure/",
        views.patient_request_disclosure,
        name="patient_request_disclosure",
    ),
]
