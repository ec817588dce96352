from django.urls import path

from . import views

app_name = "enrollment"

urlpatterns = [
    # 別紙1 / 別紙2: public, no account; the applicant's pages are opened by their signed link.
    path("apply/", views.apply, name="apply"),
    path("apply/postal-code/", views.postal_code_lookup, name="postal_code_lookup"),
    path("apply/sent/", views.apply_sent, name="apply_sent"),
    path("apply/confirm/<str:token>/", views.apply_confirm, name="apply_confirm"),
    path("application/<str:token>/", views.application_status, name="application_status"),
    path("application/<str:token>/scan/", views.application_scan, name="application_scan"),
    path(
        "application/<str:token>/resubmit/",
        views.application_resubmit,
        name="application_resubmit",
    ),
    # 別紙3 / 別紙4: the facility's manager or MCS administrator.
    path("", views.index, name="index"),
    path("facilities/<int:facility_id>/roster/", views.roster_new, name="roster_new"),
    path("facilities/<int:facility_id>/roster/upload/", views.roster_upload, name="roster_upload"),
    path(
        "facilities/<int:facility_id>/roster/template.xlsx",
        views.roster_template,
        name="roster_template",
    ),
    path("rosters/<int:pk>/", views.roster_detail, name="roster_detail"),
    path("facilities/<int:facility_id>/notice/", views.notice_new, name="notice_new"),
    path("facilities/<int:facility_id>/stop/", views.notice_stop, name="notice_stop"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/scan/", views.notice_scan, name="notice_scan"),
    path("notices/<int:pk>/submit/", views.notice_draft_submit, name="notice_draft_submit"),
]
