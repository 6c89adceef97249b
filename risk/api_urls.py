"""REST endpoints of the risk app under /api/v1/."""

from risk import apis

urlpatterns = apis.urlpatterns
