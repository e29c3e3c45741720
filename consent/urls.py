"""consent pages."""

urlpatterns: list = []
