"""consent API routes (mounted under /api/v1/)."""

from django.urls import path

from consent.api.views import consents, releases, subjects, verification

urlpatterns = [
    path("vocabulary", subjects.VocabularyView.as_view(), name="vocabulary"),
    path("subjects", subjects.SubjectListCreate.as_view(), name="subject-list"),
    path("subjects/<str:subject_id>", subjects.SubjectDetail.as_view(), name="subject-detail"),
    path(
        "subjects/<str:subject_id>/representatives",
        subjects.RepresentativeCreate.as_view(),
        name="subject-representative-list",
    ),
    path(
        "subjects/<str:subject_id>/representatives/<str:rep_id>",
        subjects.RepresentativeDetail.as_view(),
        name="subject-representative-detail",
    ),
    path("subjects/<str:subject_id>/keys", subjects.SubjectKeyListCreate.as_view(), name="subject-key-list"),
    path("subjects/<str:subject_id>/keys/<str:kid>", subjects.SubjectKeyDetail.as_view(), name="subject-key-detail"),
    path("subjects/<str:subject_id>/vouches", subjects.VouchCreate.as_view(), name="subject-vouch-list"),
    path(
        "subjects/<str:subject_id>/vouches/<str:vouch_id>", subjects.VouchDetail.as_view(), name="subject-vouch-detail"
    ),
    path("subjects/<str:subject_id>/disputes", subjects.DisputeCreate.as_view(), name="subject-dispute-list"),
    path("subjects/<str:subject_id>/access-log", subjects.AccessLogList.as_view(), name="subject-access-log"),
    path("consents", consents.ConsentListCreate.as_view(), name="consent-list"),
    path("consents/<str:consent_id>", consents.ConsentDetail.as_view(), name="consent-detail"),
    path("consents/<str:consent_id>/sign", consents.ConsentSign.as_view(), name="consent-sign"),
    path("consents/<str:consent_id>/revoke", consents.ConsentRevoke.as_view(), name="consent-revoke"),
    path("consents/<str:consent_id>/history", consents.ConsentHistory.as_view(), name="consent-history"),
    path(
        "consents/<str:consent_id>/acknowledgements",
        consents.ConsentAcknowledgements.as_view(),
        name="consent-acknowledgements",
    ),
    path("me/erasure", subjects.ErasureView.as_view(), name="me-erasure"),
    path("verifications", verification.VerificationView.as_view(), name="verification"),
    path("verifications/bulk", verification.BulkVerificationView.as_view(), name="verification-bulk"),
    path("consent-tokens", verification.ConsentTokenView.as_view(), name="consent-token"),
    path("releases", releases.ReleaseListCreate.as_view(), name="release-list"),
    path("releases/<str:release_id>", releases.ReleaseDetail.as_view(), name="release-detail"),
    path("releases/<str:release_id>/recheck", releases.ReleaseRecheck.as_view(), name="release-recheck"),
]
