"""Pages of the customers app; each area keeps its own ``urlpatterns`` in its views module."""

from customers.views import files, relationship, service

app_name = "customers"
urlpatterns = files.urlpatterns + relationship.urlpatterns + service.urlpatterns
