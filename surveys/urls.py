from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path(
        "campaigns/<int:pk>/state/<str:action>/",
        views.campaign_transition,
        name="campaign_transition",
    ),
    path("campaigns/<int:pk>/analysis/", views.campaign_analysis, name="analysis"),
    path("campaigns/<int:pk>/export.<str:fmt>", views.campaign_export, name="export"),
    path("campaigns/<int:pk>/responses/", views.campaign_responses, name="responses"),
    path("campaigns/<int:pk>/import/", views.campaign_import, name="import"),
    path("invitations/<int:pk>/answer/", views.invitation_answer, name="answer"),
    path("invitations/<int:pk>/qr.svg", views.invitation_qr, name="qr"),
    path("r/<str:token>/", views.public_answer, name="public"),
    path("ledger/", views.ledger, name="ledger"),
    path("improvements/new/", views.improvement_new, name="improvement_new"),
    path("improvements/<int:pk>/", views.improvement_detail, name="improvement"),
    path("feedback/", views.feedback_list, name="feedback"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("frameworks/", views.framework_list, name="frameworks"),
    path("frameworks/new/", views.framework_new, name="framework_new"),
    path("frameworks/<int:pk>/", views.framework_detail, name="framework"),
    path(
        "frameworks/<int:pk>/indicators.csv",
        views.framework_indicators,
        name="framework_indicators",
    ),
]
