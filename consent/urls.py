"""consent pages (included at the site root)."""

from django.urls import path

from consent import studio_views, views

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
    # Studios: every page acts for one organization the person belongs to.
    path("studios/", studio_views.dashboard, name="studio-dashboard"),
    path("studios/<slug:org_slug>/check/", studio_views.check, name="studio-check"),
    path("studios/<slug:org_slug>/releases/", studio_views.release_list, name="studio-releases"),
    path("studios/<slug:org_slug>/releases/new/", studio_views.release_new, name="studio-release-new"),
    path("studios/<slug:org_slug>/releases/<str:release_id>/", studio_views.release_report, name="studio-release"),
    path(
        "studios/<slug:org_slug>/releases/<str:release_id>/recheck/",
        studio_views.release_recheck,
        name="studio-release-recheck",
    ),
    path("studios/<slug:org_slug>/webhooks/", studio_views.webhooks, name="studio-webhooks"),
    path("studios/<slug:org_slug>/webhooks/<str:webhook_id>/", studio_views.webhook_detail, name="studio-webhook"),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/toggle/",
        studio_views.webhook_toggle,
        name="studio-webhook-toggle",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/rotate/",
        studio_views.webhook_rotate,
        name="studio-webhook-rotate",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/delete/",
        studio_views.webhook_delete,
        name="studio-webhook-delete",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver/",
        studio_views.delivery_redeliver,
        name="studio-delivery-redeliver",
    ),
    path("studios/<slug:org_slug>/api-keys/", studio_views.api_keys, name="studio-api-keys"),
    path(
        "studios/<slug:org_slug>/api-keys/<str:key_id>/revoke/",
        studio_views.api_key_revoke,
        name="studio-api-key-revoke",
    ),
]
