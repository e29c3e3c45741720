"""guidelines pages (included at the site root)."""

from django.urls import path

from guidelines import views

app_name = "guidelines"

urlpatterns = [
    path("guidelines/", views.catalogue, name="catalogue"),
    path("guidelines/<slug:slug>/", views.guideline_page, name="detail"),
    path("guidelines/<slug:slug>/diff/", views.diff_page, name="diff"),
    path("guidelines/<slug:slug>/versions/new/", views.version_edit, name="version-new"),
    path("guidelines/<slug:slug>/versions/<str:version>/edit/", views.version_edit, name="version-edit"),
    path("guidelines/<slug:slug>/versions/<str:version>/publish/", views.version_publish, name="publish"),
    # Before the project page: "new" is reserved, no project may take it as its short name.
    path("projects/new/", views.project_new, name="project-new"),
    path("projects/<slug:org_slug>/", views.project_page, name="project"),
    path("projects/<slug:org_slug>/keys/", views.signing_keys, name="keys"),
    path("projects/<slug:org_slug>/keys/<str:kid>/retire/", views.signing_key_retire, name="key-retire"),
    path("projects/<slug:org_slug>/proofs/", views.control_proofs, name="proofs"),
    path("projects/<slug:org_slug>/guidelines/new/", views.guideline_new, name="new"),
]
