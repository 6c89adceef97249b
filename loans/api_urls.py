"""REST endpoints of the loans app under /api/v1/."""

from loans.apis import lifecycle, origination

urlpatterns = origination.urlpatterns + lifecycle.urlpatterns
