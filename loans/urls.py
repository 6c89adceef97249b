"""Pages of the loans app; each area keeps its own ``urlpatterns`` in its views module."""

from loans.views import lifecycle, origination

app_name = "loans"
urlpatterns = origination.urlpatterns + lifecycle.urlpatterns
