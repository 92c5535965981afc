from django.urls import path

from collection.views import agents as agent_views
from collection.views import bulletins as bulletin_views
from collection.views import calls, counter, ledger
from collection.views import inspection as inspection_views
from collection.views import notices as notice_views
from collection.views import payments as payment_views
from collection.views import progress as progress_views
from collection.views import proxy as proxy_views
from collection.views import revisits as revisit_views

app_name = "collection"

urlpatterns = [
    path("ledger/", ledger.LedgerFormView.as_view(), name="ledger_form"),
    path(
        "ledger/<str:region_code>/<int:year>.xlsx",
        ledger.LedgerDownloadView.as_view(),
        name="ledger_download",
    ),
    # the payments of the region (views/payments.py)
    path("payments/", payment_views.PaymentListView.as_view(), name="payment_list"),
    # who has not paid yet, for the campaign calls (views/calls.py)
    path("unpaid/<str:region_code>/", calls.UnpaidListView.as_view(), name="unpaid"),
    path("unpaid/<str:region_code>.xlsx", calls.UnpaidExportView.as_view(), name="unpaid_export"),
    # counter and receipts (views/counter.py)
    path("counter/", counter.CounterView.as_view(), name="counter"),
    path("receipts/<int:pk>/", counter.ReceiptView.as_view(), name="receipt"),
    # targets and progress (views/progress.py)
    path("progress/", progress_views.ProgressHomeView.as_view(), name="progress_home"),
    path("progress/<str:region_code>/", progress_views.ProgressView.as_view(), name="progress"),
    path(
        "progress/<str:region_code>/recount/",
        progress_views.ProgressRecountView.as_view(),
        name="progress_recount",
    ),
    path(
        "progress/<str:region_code>/progress.xlsx",
        progress_views.ProgressSheetView.as_view(),
        name="progress_sheet",
    ),
    path(
        "progress/<str:region_code>/targets/", progress_views.TargetView.as_view(), name="targets"
    ),
    path(
        "progress/<str:region_code>/targets.xlsx",
        progress_views.TargetSheetView.as_view(),
        name="targets_sheet",
    ),
    # the inspection worksheet of a township or village (views/inspection.py)
    path(
        "progress/<str:region_code>/inspection.xlsx",
        inspection_views.InspectionSheetView.as_view(),
        name="inspection_sheet",
    ),
    # proxy batches (views/proxy.py)
    path("proxy/", proxy_views.ProxyBatchListView.as_view(), name="proxy_batch_list"),
    path("proxy/<int:pk>/", proxy_views.ProxyBatchDetailView.as_view(), name="proxy_batch_detail"),
    path("proxy/generate/", proxy_views.ProxyGenerateView.as_view(), name="proxy_generate"),
    path(
        "proxy/generations/<int:pk>/",
        proxy_views.ProxyGenerationDetailView.as_view(),
        name="proxy_generation_detail",
    ),
    path(
        "proxy/<int:pk>/approve/",
        proxy_views.ProxyBatchApproveView.as_view(),
        name="proxy_batch_approve",
    ),
    path("proxy/<int:pk>/post/", proxy_views.ProxyBatchPostView.as_view(), name="proxy_batch_post"),
    path(
        "proxy/<int:pk>/receipts.xlsx",
        proxy_views.ProxyReceiptDownloadView.as_view(),
        name="proxy_receipts",
    ),
    # revisits (views/revisits.py)
    path("revisits/", revisit_views.RevisitListView.as_view(), name="revisit_list"),
    path("revisits/draw/", revisit_views.RevisitDrawView.as_view(), name="revisit_draw"),
    path("revisits/<int:pk>/", revisit_views.RevisitDetailView.as_view(), name="revisit_detail"),
    path(
        "revisits/<int:pk>/sheet.xlsx",
        revisit_views.RevisitSheetDownloadView.as_view(),
        name="revisit_sheet",
    ),
    path(
        "revisits/items/<int:pk>/",
        revisit_views.RevisitRecordView.as_view(),
        name="revisit_record",
    ),
    # weekly bulletins (views/bulletins.py)
    path("bulletins/", bulletin_views.BulletinListView.as_view(), name="bulletin_list"),
    path(
        "bulletins/publish/", bulletin_views.BulletinPublishView.as_view(), name="bulletin_publish"
    ),
    path(
        "bulletins/<int:pk>/", bulletin_views.BulletinDetailView.as_view(), name="bulletin_detail"
    ),
    path(
        "bulletins/<int:pk>.xlsx",
        bulletin_views.BulletinDownloadView.as_view(),
        name="bulletin_download",
    ),
    # village agents (views/agents.py)
    path("agents/", agent_views.AgentListView.as_view(), name="agent_list"),
    path("agents/<int:pk>/", agent_views.AgentDetailView.as_view(), name="agent_detail"),
    path(
        "agents/register/<str:region_code>.xlsx",
        agent_views.AgentRegisterDownloadView.as_view(),
        name="agent_register",
    ),
    # public notices (views/notices.py)
    path("notices/", notice_views.NoticeStatusView.as_view(), name="notice_status"),
    path(
        "notices/<str:region_code>/<str:kind>/<str:period>/generate/",
        notice_views.NoticeGenerateView.as_view(),
        name="notice_generate",
    ),
    path(
        "notices/<str:group_code>/<str:kind>/<str:period>.xlsx",
        notice_views.NoticeDownloadView.as_view(),
        name="notice_download",
    ),
    path(
        "notices/<str:group_code>/<str:kind>/<str:period>/",
        notice_views.NoticePrintView.as_view(),
        name="notice_print",
    ),
]
