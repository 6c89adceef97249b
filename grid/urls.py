"""Pages of the grid app; each area keeps its own ``urlpatterns`` in its views module."""

from grid.views import campaigns, households, signing, structure

app_name = "grid"
urlpatterns = (
    structure.urlpatterns + households.urlpatterns + campaigns.urlpatterns + signing.urlpatterns
)
