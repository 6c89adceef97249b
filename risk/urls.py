"""Pages of the risk app, mounted at /risk/."""

from risk import inspection_views, views

app_name = "risk"
urlpatterns = views.urlpatterns + inspection_views.urlpatterns
