from django.urls import path, re_path

from registry.transparency.api import views

_N = r"(?P<index_path>(?:x\d{3}/)*\d{3})"

urlpatterns = [
    path("log/checkpoint", views.CheckpointView.as_view(), name="log-checkpoint"),
    path("log/checkpoint/latest", views.LatestCheckpointView.as_view(), name="log-checkpoint-latest"),
    path("log/witnesses", views.WitnessesView.as_view(), name="log-witnesses"),
    path("log/proof/tlog", views.TlogProofView.as_view(), name="log-proof-tlog"),
    path("log/key", views.LogKeyView.as_view(), name="log-key"),
    path("log/entries", views.EntryListView.as_view(), name="log-entries"),
    path("log/entries/<int:index>", views.EntryDetailView.as_view(), name="log-entry"),
    path("log/proof/inclusion", views.InclusionProofView.as_view(), name="log-proof-inclusion"),
    path("log/proof/consistency", views.ConsistencyProofView.as_view(), name="log-proof-consistency"),
    re_path(rf"^log/tile/entries/{_N}\.p/(?P<width>[0-9]+)$", views.EntryTileView.as_view(), name="log-tile-entries-p"),
    re_path(rf"^log/tile/entries/{_N}$", views.EntryTileView.as_view(), name="log-tile-entries"),
    re_path(
        rf"^log/tile/(?P<level>[0-9]{{1,2}})/{_N}\.p/(?P<width>[0-9]+)$", views.TileView.as_view(), name="log-tile-p"
    ),
    re_path(rf"^log/tile/(?P<level>[0-9]{{1,2}})/{_N}$", views.TileView.as_view(), name="log-tile"),
]
