"""REST endpoints of the grid app under /api/v1/."""

from grid.apis import urlpatterns

__all__ = ["urlpatterns"]
