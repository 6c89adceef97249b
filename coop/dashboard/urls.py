"""The management dashboard's pages, mounted at /dashboard/."""

from coop.dashboard import views

app_name = "dashboard"

urlpatterns = views.urlpatterns
