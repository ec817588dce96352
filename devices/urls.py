from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("", views.index, name="index"),
    # The register of the facility's devices (MCS administrator, art. 6 (2), art. 12).
    path("register/", views.device_list, name="device_list"),
    path("register/new/", views.device_create, name="device_create"),
    path("register/<int:pk>/", views.device_detail, name="device_detail"),
    path("register/<int:pk>/edit/", views.device_edit, name="device_edit"),
    path("register/<int:pk>/confirm/", views.device_confirm, name="device_confirm"),
    path("register/<int:pk>/state/", views.device_state, name="device_state"),
    # Take-out and BYOD requests (art. 12 (9)(10)).
    path("takeouts/", views.takeout_list, name="takeout_list"),
    path("takeouts/new/", views.takeout_create, name="takeout_create"),
    path("takeouts/<int:pk>/", views.takeout_detail, name="takeout_detail"),
    path("takeouts/<int:pk>/decide/", views.takeout_decide, name="takeout_decide"),
    path("takeouts/<int:pk>/return/", views.takeout_return, name="takeout_return"),
    path("takeouts/<int:pk>/withdraw/", views.takeout_withdraw, name="takeout_withdraw"),
    # Loss and theft (art. 12 (11)).
    path("losses/", views.loss_list, name="loss_list"),
    path("losses/new/", views.loss_create, name="loss_create"),
    path("losses/<int:pk>/", views.loss_detail, name="loss_detail"),
    path("losses/<int:pk>/acknowledge/", views.loss_acknowledge, name="loss_acknowledge"),
    path("losses/<int:pk>/close/", views.loss_close, name="loss_close"),
    # Anomalies and unauthorized access (留意事項 4).
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path(
        "incidents/<int:pk>/acknowledge/",
        views.incident_acknowledge,
        name="incident_acknowledge",
    ),
    path("incidents/<int:pk>/note/", views.incident_note, name="incident_note"),
    path("incidents/<int:pk>/escalate/", views.incident_escalate, name="incident_escalate"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
    path("incidents/<int:pk>/restrict/", views.incident_restrict, name="incident_restrict"),
    # 個人データの漏えい等: the legal clock (個人情報保護法 §26, 規則8条).
    path("incidents/<int:pk>/leak/", views.leak_mark_incident, name="leak_mark_incident"),
    path("losses/<int:pk>/leak/", views.leak_mark_loss, name="leak_mark_loss"),
    path("leaks/<int:pk>/", views.leak_detail, name="leak_detail"),
    path("leaks/<int:pk>/report/", views.leak_report, name="leak_report"),
    path("leaks/<int:pk>/record/", views.leak_record, name="leak_record"),
    path("leaks/<int:pk>/notified/", views.leak_notified, name="leak_notified"),
    # Leavers (留意事項4, 第7条(2), 第12条(10)): the MCS administrator's checklist.
    path("leavers/", views.leaver_list, name="leaver_list"),
    path("leavers/<int:pk>/", views.leaver_detail, name="leaver_detail"),
    path("leavers/<int:pk>/confirm/", views.leaver_confirm, name="leaver_confirm"),
    # The center: escalated incidents and counts, and the open leak clocks.
    path("center/", views.center_overview, name="center_overview"),
    path("center/leaks/", views.leak_center, name="leak_center"),
    path("center/leavers/", views.leaver_center, name="leaver_center"),
]
