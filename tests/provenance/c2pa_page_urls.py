"""The site's URLs with the studio's Content Credentials page wired, as the lead adds it to
consent/urls.py (the same path and name); once it is there, this adds nothing."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from consent import urls as consent_urls
from consent.models import Release
from consent.pages import studio_c2pa
from registry import urls as site_urls

NAME = "studio-release-c2pa"
PAGE = path("studios/<slug:org_slug>/releases/<str:release_id>/c2pa/", studio_c2pa.release_c2pa_page, name=NAME)


def _with_page() -> list[URLPattern | URLResolver]:
    patterns = list(consent_urls.urlpatterns)
    if not any(getattr(pattern, "name", None) == NAME for pattern in patterns):
        patterns.append(PAGE)
    site: list[URLPattern | URLResolver] = []
    for pattern in site_urls.urlpatterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "consent":
            site.append(path("", include((patterns, "consent"), namespace="consent")))
        else:
            site.append(pattern)
    return site


urlpatterns = _with_page()
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def page_url(release: Release) -> str:
    return f"/studios/{release.organization.slug}/releases/{release.public_id}/c2pa/"
