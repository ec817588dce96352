from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/patient/", views.create_patient_group, name="create_patient_group"),
    path("new/free/", views.create_free_group, name="create_free_group"),
    path("archive/", views.archive, name="archive"),
    path("to-archive/", views.archive_queue, name="archive_queue"),
    path("center/", views.center_overview, name="center"),
    path("center/monitoring/", views.center_monitoring, name="center_monitoring"),
    path("center/attestations/", views.center_attestations, name="center_attestations"),
    path("facilities/<int:pk>/attestation/", views.staff_attestation, name="staff_attestation"),
    path(
        "facilities/<int:pk>/attestation/<int:line_pk>/resolve/",
        views.staff_attestation_resolve,
        name="staff_attestation_resolve",
    ),
    path("announcements/", views.announcement_list, name="announcements"),
    path("announcements/<int:pk>/read/", views.announcement_read, name="announcement_read"),
    path("announcements/<int:pk>/mail/", views.announcement_mail, name="announcement_mail"),
    path("staff/<int:user_pk>/", views.staff_memberships, name="staff_memberships"),
    path(
        "staff/<int:user_pk>/memberships/<int:membership_pk>/remove/",
        views.staff_membership_remove,
        name="staff_membership_remove",
    ),
    path("staff/<int:user_pk>/end-all/", views.staff_memberships_end, name="staff_memberships_end"),
    path("<int:pk>/", views.group_detail, name="detail"),
    path("<int:pk>/invitation/", views.invitation, name="invitation"),
    path("<int:pk>/invitation/accept/", views.invitation_accept, name="invitation_accept"),
    path("<int:pk>/invitation/decline/", views.invitation_decline, name="invitation_decline"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path(
        "<int:pk>/members/<int:membership_pk>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("<int:pk>/leave/", views.leave, name="leave"),
    path("<int:pk>/handover/", views.handover, name="handover"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/post-deletions/", views.post_deletion, name="post_deletion"),
    path("<int:pk>/attestation/", views.attestation, name="attestation"),
    path(
        "<int:pk>/attestation/<int:attestation_pk>/resolve/",
        views.attestation_resolve,
        name="attestation_resolve",
    ),
    path("<int:pk>/end/", views.report_end, name="report_end"),
    path("<int:pk>/end/undo/", views.report_end_undo, name="report_end_undo"),
    path("<int:pk>/archive/", views.archive_group, name="archive_group"),
]
