"""The dashboard's API, mounted at /api/v1/dashboard/."""

from django.urls import path

from coop.api import API_ROOT_ENTRIES
from coop.dashboard.apis import DashboardApi, DashboardSummaryApi, NplTrendApi

urlpatterns = [
    path("", DashboardApi.as_view(), name="api-dashboard"),
    path("summary/", DashboardSummaryApi.as_view(), name="api-dashboard-summary"),
    path("npl-trend/", NplTrendApi.as_view(), name="api-dashboard-npl-trend"),
]

if ("dashboard", "api-dashboard") not in API_ROOT_ENTRIES:
    API_ROOT_ENTRIES.append(("dashboard", "api-dashboard"))
