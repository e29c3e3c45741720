"""Pages of accounts (wired into registry/urls.py at the site root)."""

from django.urls import path

from registry.accounts import views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
