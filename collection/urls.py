from django.urls import path

from collection import views

app_name = "collection"

urlpatterns = [
    path("ledger/", views.LedgerFormView.as_view(), name="ledger_form"),
    path(
        "ledger/<str:region_code>/<int:year>.xlsx",
        views.LedgerDownloadView.as_view(),
        name="ledger_download",
    ),
]
