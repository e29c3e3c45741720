"""Provenance routes: the API under /api/v1/ and the "Check a file" page (included at the site root)."""

from django.urls import include, path

from provenance import views

app_name = "provenance"

urlpatterns = [
    path("api/v1/", include("provenance.api.urls")),
    path("check-a-file/", views.check_file, name="check-file"),
]
