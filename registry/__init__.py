"""Restu: the Django project and the cross-cutting parts every app uses."""

from registry.celery import app as celery_app

__all__ = ("celery_app",)
