from django.urls import path

from registry.witness.api import views

urlpatterns = [
    path("witness/add-checkpoint", views.AddCheckpointView.as_view(), name="witness-add-checkpoint"),
    path("witness/key", views.WitnessKeyView.as_view(), name="witness-key"),
    path("witness/<str:origin_hash>/checkpoint", views.WitnessedCheckpointView.as_view(), name="witness-checkpoint"),
]
