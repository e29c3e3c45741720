"""The Celery app: ``celery -A registry worker --beat``.

Settings come from Django's (``CELERY_`` namespace). With no ``CELERY_BROKER_URL`` the broker is
kombu's file-system transport in the data folder, so the embedded default still runs a real
worker in its own process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
