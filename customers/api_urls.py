"""REST endpoints of the customers app under /api/v1/."""

from customers.apis import files, relationship, service

urlpatterns = files.urlpatterns + relationship.urlpatterns + service.urlpatterns
