from django.urls import path

from . import views

app_name = "rulebook"

urlpatterns = [
    path("", views.rules_index, name="index"),
    path("<str:document>/", views.rules_document, name="document"),
    path("<str:document>/new/", views.rules_publish, name="publish"),
]
