"""Browser tests: Playwright's sync API drives headless Chromium against the live server."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# the ORM calls the live server and the fixtures make from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _static_from_finders(settings) -> None:
    # The live server serves /static/ through the staticfiles finders, which know only the
    # source names, not the hashed ones the production manifest storage puts in the pages.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
