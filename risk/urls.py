"""Pages of the risk app, mounted at /risk/."""

from risk import views

app_name = "risk"
urlpatterns = views.urlpatterns
