from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coop import api, auth_api, views

admin.site.site_header = "coop"
admin.site.site_title = "coop"

api_v1 = [
    path("", api.api_root, name="api-root"),
    path("auth/token/", auth_api.obtain_auth_token, name="api-token"),
    path("", include("customers.api_urls")),
    path("", include("loans.api_urls")),
    path("", include("risk.api_urls")),
    path("", include("grid.api_urls")),
    path("", include("surveys.api_urls")),
    path("dashboard/", include("coop.dashboard.api_urls")),
]

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("org/", views.org_units, name="org_units"),
    path("org/staff/", views.staff_list, name="staff_list"),
    path("customers/", include("customers.urls")),
    path("loans/", include("loans.urls")),
    path("risk/", include("risk.urls")),
    path("grid/", include("grid.urls")),
    path("surveys/", include("surveys.urls")),
    path("dashboard/", include("coop.dashboard.urls")),
    path("ops/tasks/", include("coop.monitor.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

handler500 = "coop.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
