from django.urls import path

from registry.accounts.api import views

urlpatterns = [
    path("organizations", views.OrganizationListCreate.as_view(), name="organization-list"),
    path("organizations/<str:org_id>", views.OrganizationDetail.as_view(), name="organization-detail"),
    path("organizations/<str:org_id>/members", views.MemberListCreate.as_view(), name="member-list"),
    path("organizations/<str:org_id>/members/<str:user_id>", views.MemberDetail.as_view(), name="member-detail"),
    path("organizations/<str:org_id>/invitations", views.OrganizationInvitationList.as_view(), name="org-invitations"),
    path(
        "organizations/<str:org_id>/invitations/<str:invitation_id>",
        views.OrganizationInvitationDetail.as_view(),
        name="org-invitation-detail",
    ),
    path("invitations", views.InvitationList.as_view(), name="invitation-list"),
    path("invitations/<str:invitation_id>/accept", views.InvitationAccept.as_view(), name="invitation-accept"),
    path("api-keys", views.ApiKeyListCreate.as_view(), name="apikey-list"),
    path("api-keys/<str:key_id>", views.ApiKeyDetail.as_view(), name="apikey-detail"),
]
