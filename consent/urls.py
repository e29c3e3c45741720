"""consent pages (included at the site root)."""

from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("me/", views.my_consents, name="my-consents"),
    path("me/start/", views.onboarding, name="onboarding"),
    path("me/export/", views.export, name="export"),
    path("me/erase/", views.erase, name="erase"),
    path("me/consents/<str:consent_id>/", views.consent_review, name="consent-review"),
    path("me/consents/<str:consent_id>/sign/", views.consent_sign, name="consent-sign"),
    path("me/consents/<str:consent_id>/revoke/", views.consent_revoke, name="consent-revoke"),
    path("me/consents/<str:consent_id>/history/", views.consent_history, name="consent-history"),
    path("subjects/<str:subject_id>/consents/new/", views.consent_new, name="consent-new"),
    path("subjects/<str:subject_id>/access-log/", views.access_log, name="access-log"),
]
