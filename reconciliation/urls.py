from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.MonthView.as_view(), name="month"),
    path("run/", views.MonthRunView.as_view(), name="run"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("statements/", views.StatementUploadView.as_view(), name="statement_upload"),
    path("<str:county_code>/<str:month>.xlsx", views.MonthSheetView.as_view(), name="month_sheet"),
    path("discrepancies/", views.DiscrepancyListView.as_view(), name="discrepancy_list"),
    path("discrepancies.xlsx", views.DiscrepancyExportView.as_view(), name="discrepancy_export"),
    path(
        "discrepancies/<int:pk>/",
        views.DiscrepancyDetailView.as_view(),
        name="discrepancy_detail",
    ),
    path(
        "discrepancies/<int:pk>/resolve/",
        views.DiscrepancyResolveView.as_view(),
        name="discrepancy_resolve",
    ),
]
