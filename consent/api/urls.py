"""consent API routes (mounted under /api/v1/)."""

from django.urls import path

from consent.api import release_views, verification_views, views

urlpatterns = [
    path("vocabulary", views.VocabularyView.as_view(), name="vocabulary"),
    path("subjects", views.SubjectListCreate.as_view(), name="subject-list"),
    path("subjects/<str:subject_id>", views.SubjectDetail.as_view(), name="subject-detail"),
    path(
        "subjects/<str:subject_id>/representatives",
        views.RepresentativeCreate.as_view(),
        name="subject-representative-list",
    ),
    path(
        "subjects/<str:subject_id>/representatives/<str:rep_id>",
        views.RepresentativeDetail.as_view(),
        name="subject-representative-detail",
    ),
    path("subjects/<str:subject_id>/keys", views.SubjectKeyListCreate.as_view(), name="subject-key-list"),
    path("subjects/<str:subject_id>/keys/<str:kid>", views.SubjectKeyDetail.as_view(), name="subject-key-detail"),
    path("subjects/<str:subject_id>/vouches", views.VouchCreate.as_view(), name="subject-vouch-list"),
    path("subjects/<str:subject_id>/vouches/<str:vouch_id>", views.VouchDetail.as_view(), name="subject-vouch-detail"),
    path("subjects/<str:subject_id>/disputes", views.DisputeCreate.as_view(), name="subject-dispute-list"),
    path("subjects/<str:subject_id>/access-log", views.AccessLogList.as_view(), name="subject-access-log"),
    path("consents", views.ConsentListCreate.as_view(), name="consent-list"),
    path("consents/<str:consent_id>", views.ConsentDetail.as_view(), name="consent-detail"),
    path("consents/<str:consent_id>/sign", views.ConsentSign.as_view(), name="consent-sign"),
    path("consents/<str:consent_id>/revoke", views.ConsentRevoke.as_view(), name="consent-revoke"),
    path("consents/<str:consent_id>/history", views.ConsentHistory.as_view(), name="consent-history"),
    path(
        "consents/<str:consent_id>/acknowledgements",
        views.ConsentAcknowledgements.as_view(),
        name="consent-acknowledgements",
    ),
    path("me/erasure", views.ErasureView.as_view(), name="me-erasure"),
    path("verifications", verification_views.VerificationView.as_view(), name="verification"),
    path("verifications/bulk", verification_views.BulkVerificationView.as_view(), name="verification-bulk"),
    path("consent-tokens", verification_views.ConsentTokenView.as_view(), name="consent-token"),
    path("releases", release_views.ReleaseListCreate.as_view(), name="release-list"),
    path("releases/<str:release_id>", release_views.ReleaseDetail.as_view(), name="release-detail"),
    path("releases/<str:release_id>/recheck", release_views.ReleaseRecheck.as_view(), name="release-recheck"),
]
