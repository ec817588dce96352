from django.urls import path

from . import views

app_name = "facilities"

urlpatterns = [
    # Everyone in the network: the directory, one's own profile, members' photos.
    path("directory/", views.directory_users_page, name="directory"),
    path("directory/facilities/", views.directory_facilities_page, name="directory_facilities"),
    path(
        "directory/facilities/search/",
        views.facility_picker_search,
        name="facility_picker_search",
    ),
    path("profile/", views.profile_edit, name="profile"),
    path("photos/<int:user_id>/", views.photo, name="photo"),
    path("postal-code/", views.postal_code_lookup, name="postal_code_lookup"),
    # The staff member's own pledge (第7条) and their facility's own rules (第14条).
    path("pledge/", views.my_pledge, name="my_pledge"),
    path("pledge/<int:pk>/confirm/", views.pledge_confirm, name="pledge_confirm"),
    path("<int:pk>/rules/", views.facility_rules, name="facility_rules"),
    path("<int:pk>/rules/new/", views.facility_rules_publish, name="facility_rules_publish"),
    # The invitee, with the link from the e-mail (no account yet).
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # The facility's MCS administrator and facility manager.
    path("", views.managed_facilities, name="mine"),
    path("<int:pk>/", views.facility_detail, name="detail"),
    path("<int:pk>/edit/", views.facility_edit, name="edit"),
    path("<int:pk>/roles/", views.roles_page, name="roles"),
    path("<int:pk>/roles/appoint/", views.role_appoint, name="role_appoint"),
    path("<int:pk>/roles/<int:role_id>/relieve/", views.role_relieve, name="role_relieve"),
    path("<int:pk>/staff/", views.staff_page, name="staff"),
    path("<int:pk>/staff/<int:user_id>/", views.staff_detail, name="staff_detail"),
    path(
        "<int:pk>/staff/<int:user_id>/deactivate/",
        views.staff_deactivate,
        name="staff_deactivate",
    ),
    path("<int:pk>/staff/<int:user_id>/restrict/", views.staff_restrict, name="staff_restrict"),
    path("<int:pk>/staff/<int:user_id>/reinstate/", views.staff_reinstate, name="staff_reinstate"),
    path("<int:pk>/staff/<int:user_id>/pledge/", views.pledge_record, name="pledge_record"),
    path("<int:pk>/invitations/", views.invitations_page, name="invitations"),
    path("<int:pk>/invitations/new/", views.invitation_create, name="invitation_create"),
    path(
        "<int:pk>/invitations/<int:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "<int:pk>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("<int:pk>/education/", views.education_page, name="education"),
    path("<int:pk>/education/new/", views.education_create, name="education_create"),
    path("<int:pk>/education/<int:session_id>/", views.education_edit, name="education_edit"),
]
