"""consent pages (included at the site root)."""

from django.urls import path

from consent.pages import performer, studio, studio_c2pa
from registry.accounts import pages as api_key_pages
from registry.events import pages as webhook_pages

app_name = "consent"

urlpatterns = [
    path("me/", performer.my_consents, name="my-consents"),
    path("me/start/", performer.onboarding, name="onboarding"),
    path("me/export/", performer.export, name="export"),
    path("me/erase/", performer.erase, name="erase"),
    path("me/consents/<str:consent_id>/", performer.consent_review, name="consent-review"),
    path("me/consents/<str:consent_id>/sign/", performer.consent_sign, name="consent-sign"),
    path("me/consents/<str:consent_id>/revoke/", performer.consent_revoke, name="consent-revoke"),
    path("me/consents/<str:consent_id>/history/", performer.consent_history, name="consent-history"),
    path("subjects/<str:subject_id>/consents/new/", performer.consent_new, name="consent-new"),
    path("subjects/<str:subject_id>/access-log/", performer.access_log, name="access-log"),
    # Studios: every page acts for one organization the person belongs to.
    path("studios/", studio.dashboard, name="studio-dashboard"),
    path("studios/<slug:org_slug>/check/", studio.check, name="studio-check"),
    path("studios/<slug:org_slug>/releases/", studio.release_list, name="studio-releases"),
    path("studios/<slug:org_slug>/releases/new/", studio.release_new, name="studio-release-new"),
    path("studios/<slug:org_slug>/releases/<str:release_id>/", studio.release_report, name="studio-release"),
    path(
        "studios/<slug:org_slug>/releases/<str:release_id>/c2pa/",
        studio_c2pa.release_c2pa_page,
        name="studio-release-c2pa",
    ),
    path(
        "studios/<slug:org_slug>/releases/<str:release_id>/recheck/",
        studio.release_recheck,
        name="studio-release-recheck",
    ),
    path("studios/<slug:org_slug>/webhooks/", webhook_pages.webhooks, name="studio-webhooks"),
    path("studios/<slug:org_slug>/webhooks/<str:webhook_id>/", webhook_pages.webhook_detail, name="studio-webhook"),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/toggle/",
        webhook_pages.webhook_toggle,
        name="studio-webhook-toggle",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/rotate/",
        webhook_pages.webhook_rotate,
        name="studio-webhook-rotate",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/delete/",
        webhook_pages.webhook_delete,
        name="studio-webhook-delete",
    ),
    path(
        "studios/<slug:org_slug>/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver/",
        webhook_pages.delivery_redeliver,
        name="studio-delivery-redeliver",
    ),
    path("studios/<slug:org_slug>/api-keys/", api_key_pages.api_keys, name="studio-api-keys"),
    path(
        "studios/<slug:org_slug>/api-keys/<str:key_id>/revoke/",
        api_key_pages.api_key_revoke,
        name="studio-api-key-revoke",
    ),
]
