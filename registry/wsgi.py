"""WSGI entry point (gunicorn ``registry.wsgi``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
_site = get_wsgi_application()

# Both need the loaded apps.
from registry.fast_paths import api_key_routes, fast_paths  # noqa: E402
from registry.witness.wsgi import witness_route  # noqa: E402

# Machine calls take lean handlers (registry/fast_paths.py): the witness's add-checkpoint, and
# API-key calls (verifications, bulk and consent tokens resolved on their own URL conf); everything
# else is the whole site.
application = fast_paths(_site, [witness_route(), *api_key_routes("consent.api.hot_urls")])


def _freeze_the_loaded_app() -> None:
    """Load every view module now, then move everything loaded so far out of the collector's reach.

    A loaded worker holds ~135,000 long-lived objects (Django, DRF, the URL conf, templates); a full
    cyclic collection walks them all, measured at 64 ms here, and one lands every few hundred
    requests, on whichever request happens to allocate at that moment: it was the p99 of
    verification under steady load. Frozen objects are never collected (they live as long as the
    process anyway); everything a request creates is collected as before.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module, as the first request would
    gc.collect()
    gc.freeze()


_freeze_the_loaded_app()
