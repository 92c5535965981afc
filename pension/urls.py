from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from pension import views
from pension.health import HealthView

urlpatterns = [
    path("", include("enrollment.urls")),
    path("collection/", include("collection.urls")),
    path("reconciliation/", include("reconciliation.urls")),
    # The lists of the site for signed-in staff (pension/api.py), before the sync API's
    # catch-all under /api/.
    path("api/staff/", include("enrollment.api")),
    path("api/staff/", include("collection.api")),
    path("api/staff/", include("reconciliation.api.staff")),
    path("api/", include("reconciliation.api.urls")),
    path("dashboard/", views.DashboardHomeView.as_view(), name="dashboard_home"),
    path("dashboard/<str:region_code>/", views.DashboardView.as_view(), name="dashboard"),
    path("exports/", views.ExportJobCreateView.as_view(), name="export_create"),
    path("exports/<int:pk>/", views.ExportJobDetailView.as_view(), name="export_job"),
    path(
        "exports/<int:pk>/download/",
        views.ExportJobDownloadView.as_view(),
        name="export_download",
    ),
    path("jobs/<int:pk>/", views.ImportJobDetailView.as_view(), name="import_job"),
    path(
        "jobs/<int:pk>/rejections.xlsx",
        views.ImportJobRejectionsView.as_view(),
        name="import_job_rejections",
    ),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", HealthView.as_view(), name="health"),
]

# Under /api/ a missing page or a crash answers the API's JSON error body; elsewhere, Django's.
handler404 = "reconciliation.api.errors.not_found"
handler500 = "reconciliation.api.errors.server_error"
