"""REST endpoints of the risk app under /api/v1/."""

from risk import apis, inspection_apis

urlpatterns = apis.urlpatterns + inspection_apis.urlpatterns
