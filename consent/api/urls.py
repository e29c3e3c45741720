"""consent API routes."""

urlpatterns: list = []
