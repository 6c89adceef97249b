from django.urls import path

from coop.api import API_ROOT_ENTRIES
from surveys import apis

API_ROOT_ENTRIES.extend(
    [
        ("survey-frameworks", "api-surveys-frameworks"),
        ("survey-campaigns", "api-surveys-campaigns"),
        ("survey-improvements", "api-surveys-improvements"),
    ]
)

urlpatterns = [
    path("surveys/frameworks/", apis.FrameworkListApi.as_view(), name="api-surveys-frameworks"),
    path(
        "surveys/frameworks/<int:pk>/",
        apis.FrameworkDetailApi.as_view(),
        name="api-surveys-framework",
    ),
    path("surveys/campaigns/", apis.CampaignListApi.as_view(), name="api-surveys-campaigns"),
    path(
        "surveys/campaigns/<int:pk>/", apis.CampaignDetailApi.as_view(), name="api-surveys-campaign"
    ),
    path(
        "surveys/campaigns/<int:pk>/open/",
        apis.CampaignOpenApi.as_view(),
        name="api-surveys-campaign-open",
    ),
    path(
        "surveys/campaigns/<int:pk>/close/",
        apis.CampaignCloseApi.as_view(),
        name="api-surveys-campaign-close",
    ),
    path(
        "surveys/campaigns/<int:pk>/responses/",
        apis.CampaignResponsesApi.as_view(),
        name="api-surveys-campaign-responses",
    ),
    path(
        "surveys/campaigns/<int:pk>/import/",
        apis.CampaignImportApi.as_view(),
        name="api-surveys-campaign-import",
    ),
    path(
        "surveys/campaigns/<int:pk>/analysis/",
        apis.CampaignAnalysisApi.as_view(),
        name="api-surveys-campaign-analysis",
    ),
    path(
        "surveys/improvements/",
        apis.ImprovementListApi.as_view(),
        name="api-surveys-improvements",
    ),
    path(
        "surveys/improvements/<int:pk>/advance/",
        apis.ImprovementAdvanceApi.as_view(),
        name="api-surveys-improvement-advance",
    ),
]
