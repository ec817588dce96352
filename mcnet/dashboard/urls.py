"""The center's dashboard, mounted at /center/. `dashboard:index` is a stable name: the bench
(make bench) measures it."""

from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("compliance/", views.compliance, name="compliance"),
    path("risks/", views.risks, name="risks"),
    path("reviews/", views.reviews, name="reviews"),
    path("staff-gaps/", views.staff_gaps, name="staff_gaps"),
    path("agreements/", views.agreements_outdated, name="agreements"),
    path("consents/", views.consents, name="consents"),
    path("reports/", views.report, name="reports"),
]
