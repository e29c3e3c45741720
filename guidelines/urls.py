"""guidelines pages."""

urlpatterns: list = []
