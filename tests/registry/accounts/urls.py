"""The site's URLs plus the accounts pages, until registry/urls.py includes registry.accounts.urls."""

from django.urls import include, path

from registry.urls import handler400, handler403, handler404, handler500
from registry.urls import urlpatterns as site

urlpatterns = [path("", include("registry.accounts.urls")), *site]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
