from django.urls import path

from registry.events.api import views

urlpatterns = [
    path("events/<str:event_id>/acknowledge", views.EventAcknowledge.as_view(), name="event-acknowledge"),
    path("webhooks", views.WebhookListCreate.as_view(), name="webhook-list"),
    path("webhooks/<str:webhook_id>", views.WebhookDetail.as_view(), name="webhook-detail"),
    path("webhooks/<str:webhook_id>/rotate-secret", views.WebhookRotateSecret.as_view(), name="webhook-rotate"),
    path("webhooks/<str:webhook_id>/deliveries", views.DeliveryLog.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver",
        views.Redeliver.as_view(),
        name="webhook-redeliver",
    ),
]
