from django.urls import path

from registry.witness.api import views

urlpatterns = [
    path("witness/add-checkpoint", views.add_checkpoint, name="witness-add-checkpoint"),
    path("witness/key", views.witness_key, name="witness-key"),
    path("witness/<str:origin_hash>/checkpoint", views.witnessed_checkpoint, name="witness-checkpoint"),
]
