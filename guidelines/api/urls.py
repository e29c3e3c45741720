"""guidelines API routes."""

urlpatterns: list = []
