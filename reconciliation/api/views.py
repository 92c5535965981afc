"""The tax-bureau sync API, version 1. Thin: parse, call a service or selector, answer.

Every call under /api/v1/ is logged (one ApiRequest row, whatever the answer), every answer
is in Chinese, and every error has the body of reconciliation/api/errors.py.
"""

from __future__ import annotations

import time

from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from reconciliation.api import selectors
from reconciliation.api.errors import (
    API_LANGUAGE,
    NOT_FOUND_MESSAGE,
    ApiError,
    flatten_messages,
    invalid_message,
)
from reconciliation.api.pagination import PayablesPagination
from reconciliation.api.parsers import DecimalJSONParser
from reconciliation.api.serializers import (
    BatchRequestSerializer,
    BatchResponseSerializer,
    ErrorSerializer,
    PayableSerializer,
    PayablesQuerySerializer,
    ResidentSerializer,
    ReversalRequestSerializer,
    ReversalSerializer,
    ScheduleSerializer,
)
from reconciliation.models import ApiKey
from reconciliation.services import sync
from reconciliation.services.keys import api_request_log

LOGGED_PREFIX = "/api/v1/"

_ERROR = OpenApiResponse(ErrorSerializer, description=gettext_lazy("错误（统一的错误响应体）"))
_COMMON_ERRORS = {400: _ERROR, 401: _ERROR, 404: _ERROR, 405: _ERROR, 500: _ERROR}


def _not_found(message: str = NOT_FOUND_MESSAGE) -> ApiError:
    return ApiError(status_code=404, code="not_found", message=message)


class ApiView(APIView):
    """Base of every v1 endpoint: Chinese answers and one request log row per call."""

    parser_classes = [DecimalJSONParser]
    records_count = 0

    def dispatch(self, request, *args, **kwargs):
        started = time.monotonic()
        with translation.override(API_LANGUAGE):
            response = super().dispatch(request, *args, **kwargs)
        if request.path.startswith(LOGGED_PREFIX):
            # The DRF request keeps the key once authentication has run; reading `.auth`
            # here would run it again (and raise) for a call that failed before it.
            key = vars(self.request).get("_auth")
            api_request_log(
                key=key if isinstance(key, ApiKey) else None,
                method=request.method,
                path=request.path,
                status=response.status_code,
                records=self.records_count,
                duration_ms=round((time.monotonic() - started) * 1000),
                remote_addr=request.META.get("REMOTE_ADDR"),
            )
        return response

    def validated(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        if not serializer.is_valid():
            raise ApiError(
                status_code=400,
                code="invalid",
                message=invalid_message(flatten_messages(serializer.errors)),
                details=serializer.errors,
            )
        return serializer.validated_data


class PaymentBatchView(ApiView):
    @extend_schema(
        operation_id="payments_batch",
        summary=gettext_lazy("批量提交征收记录"),
        description=format_lazy(
            gettext_lazy(
                "一次 1 至 {max_batch} 条，整批一个事务。按提交顺序逐条答复："
                "created 已接收，duplicate 已接收过相同记录（未重复入账），"
                "held 已接收但无法入账（证件号码不在册、姓名不符、金额不是档次），转县里处理，"
                "rejected 格式错误或与已接收记录内容不一致。"
                "整批重发全部答复 duplicate，不重复写入。"
            ),
            max_batch=sync.MAX_BATCH,
        ),
        request=BatchRequestSerializer,
        responses={200: BatchResponseSerializer, 415: _ERROR, **_COMMON_ERRORS},
        tags=[gettext_lazy("征收记录")],
    )
    def post(self, request):
        records = _records_of(request.data)
        self.records_count = len(records)
        _check_size(records)
        try:
            results = sync.sync_payments_batch(key=request.auth, records=records)
        except sync.BatchRefused as exc:
            raise ApiError(status_code=400, code="invalid_batch", message=str(exc)) from None
        return Response({"results": [result.as_dict() for result in results]})


def _records_of(data) -> list:
    """The envelope only: the records themselves are checked one by one by the service."""
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise ApiError(
            status_code=400,
            code="invalid_envelope",
            message=_('请求体应为 JSON 对象 {"records": [...]}，records 为征收记录列表'),
        )
    return data["records"]


def _check_size(records: list) -> None:
    if not records:
        raise ApiError(status_code=400, code="empty_batch", message=_("records 不能为空"))
    if len(records) > sync.MAX_BATCH:
        raise ApiError(
            status_code=400,
            code="batch_too_large",
            message=_("一次最多提交 %(limit)s 条记录，本次 %(received)s 条：请分批提交")
            % {"limit": sync.MAX_BATCH, "received": len(records)},
            details={"limit": sync.MAX_BATCH, "received": len(records)},
        )


class PaymentReversalView(ApiView):
    @extend_schema(
        operation_id="payments_reversal",
        summary=gettext_lazy("退费或作废一条已入账的征收记录"),
        description=gettext_lazy(
            "登记一笔冲正记录，原缴费记录不变。用同一冲正电子税票号码重复提交，"
            "答复已登记的冲正（200）；已被另一笔冲正冲正的，或挂起未入账的记录，答复 409。"
        ),
        parameters=[
            OpenApiParameter(
                "voucher", str, OpenApiParameter.PATH, description=gettext_lazy("电子税票号码")
            )
        ],
        request=ReversalRequestSerializer,
        responses={
            201: ReversalSerializer,
            200: ReversalSerializer,
            409: _ERROR,
            415: _ERROR,
            **_COMMON_ERRORS,
        },
        tags=[gettext_lazy("征收记录")],
    )
    def post(self, request, voucher: str):
        if not sync.voucher_is_wellformed(voucher):
            raise _not_found(
                _("没有电子税票号码为 %(voucher)s 的同步记录") % {"voucher": voucher[:40]}
            )
        try:
            result = sync.sync_payment_reverse(
                key=request.auth, voucher_no=voucher, data=request.data
            )
        except sync.SyncInvalid as exc:
            raise ApiError(
                status_code=400,
                code="invalid",
                message=invalid_message(exc.errors.values()),
                details=exc.errors,
            ) from None
        except sync.SyncRecordNotFound as exc:
            raise _not_found(str(exc)) from None
        except sync.SyncConflict as exc:
            raise ApiError(status_code=409, code=exc.code, message=exc.message) from None
        return Response(
            result.as_dict(),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ResidentView(ApiView):
    @extend_schema(
        operation_id="residents_retrieve",
        summary=gettext_lazy("查询参保人"),
        description=gettext_lazy("参保状态、所在村组、本年度可选档次、是否政府代缴、各年度缴费。"),
        parameters=[
            OpenApiParameter(
                "id_number", str, OpenApiParameter.PATH, description=gettext_lazy("证件号码")
            )
        ],
        responses={200: ResidentSerializer, **_COMMON_ERRORS},
        tags=[gettext_lazy("参保人")],
    )
    def get(self, request, id_number: str):
        card = selectors.resident_card(
            user=request.user, id_number=id_number, year=timezone.localdate().year
        )
        if card is None:
            raise _not_found(_("本县参保人名册中没有这个证件号码"))
        return Response(card)


class PayablesView(ApiView):
    pagination_class = PayablesPagination

    @extend_schema(
        operation_id="payables_list",
        summary=gettext_lazy("费源：本县应缴费人员名单"),
        description=gettext_lazy(
            "应参保未参保和已参保的人员（已封存、死亡、注销、不属参保范围等不在其中），"
            "按游标分页：依次请求响应中的 next 链接，直到 next 为 null。"
        ),
        parameters=[PayablesQuerySerializer],
        responses={200: PayableSerializer(many=True), **_COMMON_ERRORS},
        tags=[gettext_lazy("参保人")],
    )
    def get(self, request):
        query = self.validated(PayablesQuerySerializer, request.query_params)
        county = selectors.county_in_scope(user=request.user, code=query["county"])
        if county is None:
            raise _not_found(
                _("没有区划代码为 %(county)s 的县，或不在本密钥的授权范围内")
                % {"county": query["county"]}
            )
        rows = selectors.payables(
            user=request.user,
            county=county,
            year=query["year"],
            updated_since=query.get("updated_since"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([selectors.payable_row(row) for row in page])


class ScheduleView(ApiView):
    @extend_schema(
        operation_id="schedules_retrieve",
        summary=gettext_lazy("缴费方案"),
        description=gettext_lazy(
            "某省某年度的缴费档次与补贴、政府代缴金额与对象类别、征缴期、进度节点。"
        ),
        parameters=[
            OpenApiParameter(
                "province",
                str,
                OpenApiParameter.PATH,
                description=gettext_lazy("省级区划代码（2位），如 53"),
            ),
            OpenApiParameter(
                "year", int, OpenApiParameter.PATH, description=gettext_lazy("缴费年度")
            ),
        ],
        responses={200: ScheduleSerializer, **_COMMON_ERRORS},
        tags=[gettext_lazy("缴费方案")],
    )
    def get(self, request, province: str, year: int):
        card = selectors.schedule_card(user=request.user, province=province, year=year)
        if card is None:
            raise _not_found(
                _("没有 %(province)s 省 %(year)s 年度的缴费方案")
                % {"province": province[:2], "year": year}
            )
        return Response(card)


class UnknownEndpoint(ApiView):
    """Any other URL under /api/: the JSON 404 (with its log row under /api/v1/)."""

    schema = None
    permission_classes = [AllowAny]

    def get(self, request, *args, **kwargs):
        raise _not_found(_("没有这个接口地址：请查看 /api/docs/ 中的接口说明"))

    post = put = patch = delete = options = get
