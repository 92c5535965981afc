"""One error body for every error of the API, whatever raised it:

    {"error": {"code": "<machine code>", "message": "<中文说明>", "details": ...}}

DRF's exceptions (authentication, parsing, validation, methods, media types), the API's own
refusals, unexpected failures (500) and unknown URLs under /api/ all answer in this shape, so a
tax-bureau client needs one error path. `handler404`/`handler500` in pension/urls.py use the
plain-Django views at the bottom for whatever fails before DRF is reached.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from pension.jobs import is_transient

logger = logging.getLogger("django.request")

API_PREFIX = "/api/"

NOT_FOUND_MESSAGE = gettext_lazy("未找到请求的资源")
SERVER_ERROR_MESSAGE = gettext_lazy("服务器内部错误，请稍后重试；如一再出现，请联系县社保中心")
UNAVAILABLE_MESSAGE = gettext_lazy(
    "数据库暂时无法访问，本次请求未保存任何数据；请稍后原样重发（已入账的票据不会重复入账）"
)
RETRY_AFTER_SECONDS = 5
# The parser's own messages start with this word; any other parse error gets the generic one.
OWN_PARSE_MESSAGE_START = "请求"
# The API answers in Chinese whatever the caller's language (see ApiView.dispatch).
API_LANGUAGE = "zh-hans"


class ApiError(exceptions.APIException):
    """A refusal of the API with its machine code, Chinese message and optional details."""

    def __init__(self, *, status_code: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        # Evaluated now, in the API's language: the body is rendered after ApiView.dispatch.
        self.message = str(message)
        self.details = details


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def flatten_messages(detail: Any, prefix: str = "") -> list[str]:
    """Flatten DRF's nested validation detail into "〈field〉reason" lines."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for field, inner in detail.items():
            if field == "non_field_errors":
                label = prefix
            else:
                # Translators: a field's name put before its error; fields nest left to right.
                label = _("%(prefix)s〈%(field)s〉") % {"prefix": prefix, "field": field}
            lines += flatten_messages(inner, label)
        return lines
    if isinstance(detail, list):
        lines = []
        for inner in detail:
            lines += flatten_messages(inner, prefix)
        return lines
    return [f"{prefix}{detail}"]


def invalid_message(messages: Iterable[Any]) -> str:
    """The one-line message of a refused request: every reason, in order."""
    reasons = pgettext("separator between reasons", "；").join(str(m) for m in messages)
    return _("请求参数有误：%(reasons)s") % {"reasons": reasons}


def _described(exc: exceptions.APIException, request) -> tuple[str, str, Any]:
    """(code, message, details) for one of DRF's own exceptions, with a Chinese message."""
    if isinstance(exc, ApiError):
        return exc.code, exc.message, exc.details
    if isinstance(exc, exceptions.NotAuthenticated):
        # The staff API (signed-in users, not keys) says what it lacks in its own words.
        if str(exc.detail) != str(exceptions.NotAuthenticated.default_detail):
            return "not_authenticated", str(exc.detail), None
        return (
            "not_authenticated",
            _("缺少接口密钥：请在请求头中提供 Authorization: Bearer <密钥>"),
            None,
        )
    if isinstance(exc, exceptions.AuthenticationFailed):
        return str(exc.get_codes()), str(exc.detail), None
    if isinstance(exc, exceptions.PermissionDenied):
        return "permission_denied", _("无权执行此操作"), None
    if isinstance(exc, exceptions.NotFound):
        return "not_found", str(NOT_FOUND_MESSAGE), None
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = getattr(request, "method", "")
        return "method_not_allowed", _("此地址不支持 %(method)s 方法") % {"method": method}, None
    if isinstance(exc, exceptions.NotAcceptable):
        return (
            "not_acceptable",
            _("本接口只返回 JSON：请求头 Accept 应包含 application/json"),
            None,
        )
    if isinstance(exc, exceptions.UnsupportedMediaType):
        media = getattr(request, "content_type", "") or _("（未指定）")
        return (
            "unsupported_media_type",
            _("不支持的请求内容类型 %(media)s：请使用 application/json") % {"media": media},
            None,
        )
    if isinstance(exc, exceptions.ParseError):
        message = str(exc.detail)
        if not message.startswith(OWN_PARSE_MESSAGE_START):
            message = _("请求体无法解析")
        return "parse_error", message, None
    if isinstance(exc, exceptions.Throttled):
        if exc.wait:
            seconds = int(exc.wait)
            message = ngettext(
                "请求过于频繁，请 %(seconds)s 秒后重试",
                "请求过于频繁，请 %(seconds)s 秒后重试",
                seconds,
            ) % {"seconds": seconds}
        else:
            message = _("请求过于频繁，请稍后重试")
        return "throttled", message, None
    if isinstance(exc, exceptions.ValidationError):
        return "invalid", invalid_message(flatten_messages(exc.detail)), exc.detail
    return str(exc.default_code), _("请求无法处理"), str(exc.detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception becomes the one error body.

    Unexpected exceptions too: they are logged with their traceback and answered 500 here, so
    the call still gets its request log row and a JSON body rather than an HTML page.
    """
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    set_rollback()
    if is_transient(exc):
        # The database went away for a moment (a restart, a failover): nothing of the call was
        # kept, and the same request sent again is safe, as vouchers are idempotent.
        logger.warning("Service Unavailable: %s: %s", getattr(request, "path", ""), exc)
        return Response(
            error_body("unavailable", str(UNAVAILABLE_MESSAGE)),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if not isinstance(exc, exceptions.APIException):
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", ""),
            exc_info=exc,
            extra={"status_code": 500, "request": getattr(request, "_request", None)},
        )
        return Response(
            error_body("server_error", str(SERVER_ERROR_MESSAGE)),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code, message, details = _described(exc, request)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


# --- outside DRF: pension/urls.py handler404 and handler500 -----------------------------------


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def not_found(request, exception=None):
    if _is_api(request):
        with translation.override(API_LANGUAGE):
            body = error_body("not_found", str(NOT_FOUND_MESSAGE))
        return JsonResponse(
            body,
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: called while the exception is being handled, so it can tell a database
    that went away (503, send again) from a fault (500), for an error DRF's handler did not see
    (one raised again while the call's request log was written on the broken connection)."""
    if _is_api(request):
        unavailable = is_transient(sys.exc_info()[1])
        with translation.override(API_LANGUAGE):
            body = (
                error_body("unavailable", str(UNAVAILABLE_MESSAGE))
                if unavailable
                else error_body("server_error", str(SERVER_ERROR_MESSAGE))
            )
        response = JsonResponse(
            body,
            status=503 if unavailable else 500,
            json_dumps_params={"ensure_ascii": False},
        )
        if unavailable:
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
