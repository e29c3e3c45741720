"""The API's busiest paths alone, for the lean handler of API-key calls (registry/wsgi.py).

Resolving these exact paths against the site's URL conf tried some hundred patterns first; here
they are the only ones. The same views, names and paths as in ``consent.api.urls``, but for a
single verification and a consent token, which a well-formed call gets without DRF's dispatch
(``verification_fast``).
"""

from django.urls import path

from consent.api.views import verification, verification_fast

urlpatterns = [
    path("api/v1/verifications", verification_fast.verification, name="verification"),
    path("api/v1/verifications/bulk", verification.BulkVerificationView.as_view(), name="verification-bulk"),
    path("api/v1/consent-tokens", verification_fast.consent_token, name="consent-token"),
]
