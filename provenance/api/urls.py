"""Provenance API routes (mounted under /api/v1/)."""

from django.urls import path

from provenance.api import views

urlpatterns = [
    path("provenance/checks", views.CheckCreate.as_view(), name="provenance-check-list"),
    path("provenance/checks/<str:check_id>", views.CheckDetail.as_view(), name="provenance-check-detail"),
    path("releases/<str:release_id>/c2pa", views.ReleaseC2pa.as_view(), name="release-c2pa"),
]
