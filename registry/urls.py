"""URL configuration: pages, the API under /api/v1/, allauth (pages and headless), health."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from registry import health, views
from registry.api.trust_views import JwksView, ReceiptVerifyView

api_v1: list[URLPattern | URLResolver] = [
    path("", include("registry.accounts.api.urls")),
    path("", include("registry.transparency.api.urls")),
    path("", include("registry.witness.api.urls")),
    path("", include("registry.events.api.urls")),
    path("", include("guidelines.api.urls")),
    path("", include("consent.api.urls")),
    path("receipts/verify", ReceiptVerifyView.as_view(), name="receipt-verify"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health", health.health, name="health"),
    path(".well-known/jwks.json", JwksView.as_view(), name="jwks"),
    path("api/v1/", include(api_v1)),
    path("", include("guidelines.urls")),
    path("", include("consent.urls")),
    path("", include("provenance.urls")),
    path("", include("registry.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]

handler400 = "registry.views.bad_request"
handler403 = "registry.views.forbidden"
handler404 = "registry.views.not_found"
handler500 = "registry.views.server_failure"
