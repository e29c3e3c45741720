"""guidelines API routes (included under /api/v1/)."""

from django.urls import path

from guidelines.api import views

_VERSION = "guidelines/<slug:slug>/versions/<str:version>"

urlpatterns = [
    path("guidelines", views.GuidelineListCreate.as_view(), name="guideline-list"),
    path("guidelines/<slug:slug>", views.GuidelineDetail.as_view(), name="guideline-detail"),
    path("guidelines/<slug:slug>/diff", views.GuidelineDiff.as_view(), name="guideline-diff"),
    path("guidelines/<slug:slug>/versions", views.VersionListCreate.as_view(), name="guideline-version-list"),
    path(_VERSION, views.VersionDetail.as_view(), name="guideline-version-detail"),
    path(f"{_VERSION}/publish", views.VersionPublish.as_view(), name="guideline-version-publish"),
    path(f"{_VERSION}/retire", views.VersionRetire.as_view(), name="guideline-version-retire"),
    path(f"{_VERSION}/adoptions", views.AdoptionListCreate.as_view(), name="guideline-adoption-list"),
    path("organizations/<str:org_id>/keys", views.ProjectKeyListCreate.as_view(), name="project-key-list"),
    path("organizations/<str:org_id>/keys/<str:kid>", views.ProjectKeyDetail.as_view(), name="project-key-detail"),
    path("organizations/<str:org_id>/proofs", views.ProofListCreate.as_view(), name="proof-list"),
    path("organizations/<str:org_id>/proofs/<str:proof_id>", views.ProofDetail.as_view(), name="proof-detail"),
    path("organizations/<str:org_id>/proofs/<str:proof_id>/check", views.ProofCheck.as_view(), name="proof-check"),
    path("attestations", views.AttestationListCreate.as_view(), name="attestation-list"),
    path("attestations/<str:attestation_id>", views.AttestationDetail.as_view(), name="attestation-detail"),
    path("attestations/<str:attestation_id>/revoke", views.AttestationRevoke.as_view(), name="attestation-revoke"),
    path("safeguards", views.SafeguardList.as_view(), name="safeguard-list"),
]
