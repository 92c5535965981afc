"""The tax-bureau sync API (REST, versioned under /api/v1/), its schema and its docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reconciliation.api import views

app_name = "api"

v1 = [
    path("v1/payments/batch", views.PaymentBatchView.as_view(), name="payments_batch"),
    path(
        "v1/payments/<str:voucher>/reversal",
        views.PaymentReversalView.as_view(),
        name="payments_reversal",
    ),
    path("v1/residents/<str:id_number>", views.ResidentView.as_view(), name="resident"),
    path("v1/payables", views.PayablesView.as_view(), name="payables"),
    path("v1/schedules/<str:province>/<int:year>", views.ScheduleView.as_view(), name="schedule"),
]

urlpatterns = [
    *v1,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Last: every other address under /api/ answers the API's JSON 404, not an HTML page.
    re_path(r"^.*$", views.UnknownEndpoint.as_view(), name="unknown"),
]
