from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("residents/", views.ResidentListView.as_view(), name="resident_list"),
    path("residents/<str:id_number>/", views.ResidentDetailView.as_view(), name="resident_detail"),
    path("residents/<str:id_number>/seal/", views.ResidentSealView.as_view(), name="resident_seal"),
    path(
        "residents/<str:id_number>/unseal/",
        views.ResidentUnsealView.as_view(),
        name="resident_unseal",
    ),
    path(
        "residents/<str:id_number>/cancel/",
        views.ResidentCancelView.as_view(),
        name="resident_cancel",
    ),
    path("imports/registry/", views.RegistryUploadView.as_view(), name="upload_registry"),
    path("imports/department/", views.DepartmentUploadView.as_view(), name="upload_department"),
    path("findings/", views.FindingListView.as_view(), name="finding_list"),
    path("findings/resolve/", views.FindingResolveView.as_view(), name="finding_resolve"),
    path("findings/export.xlsx", views.FindingExportView.as_view(), name="finding_export"),
    path("benefits-due/", views.BenefitsDueView.as_view(), name="benefits_due"),
]
