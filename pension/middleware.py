"""Middleware of the whole site."""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChosenLanguageMiddleware:
    """The pages speak Chinese unless the user chose another language with the switch.

    Only the choice counts (the cookie Django's `set_language` view writes), never the
    browser's Accept-Language: an office computer set up in English still shows its clerk
    Chinese, and a maintainer who wants English says so once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = chosen_language(request)
        # Only for this request: the thread (a test, a worker) returns to the language it had.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


def chosen_language(request: HttpRequest) -> str:
    """The language the user chose, if the site offers it; Chinese otherwise."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        return translation.get_supported_language_variant(chosen)
    except LookupError:
        return settings.LANGUAGE_CODE


class HtmxLoginRedirectMiddleware:
    """A session that expired while a page polled (an import's or an export's progress)
    sends the whole page to the login form, which then returns to that page.

    htmx follows a redirect inside its request and would swap the login form into the
    progress box; told by HX-Redirect instead, it loads the login page in the window, with
    `next` the page the user was on (HX-Current-URL), not the fragment it polled.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.headers.get("HX-Request") or response.status_code not in (301, 302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = current.path + (f"?{current.query}" if current.query else "") or request.path
        redirected = HttpResponse(status=200)
        redirected["HX-Redirect"] = f"{login}?{urlencode({'next': page})}"
        return redirected


access_log = logging.getLogger("pension.access")


class AccessLogMiddleware:
    """A line in the access log for every read of the API (the tax bureau's and the staff's)
    and every file downloaded (exports, ledgers, notices, rejection lists): who, from where,
    what, and the answer; the time is the line's own. Pages are not logged here: what a clerk
    changes is in the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_api_read = request.path.startswith("/api/v") or request.path.startswith("/api/staff/")
        is_file = response.get("Content-Disposition", "").startswith("attachment")
        if (is_api_read and request.method == "GET") or is_file:
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s",
                request.method,
                request.get_full_path(),
                response.status_code,
                extra={
                    "user": getattr(user, "username", "") or "",
                    "role": getattr(user, "role", "") or "",
                    "region": getattr(user, "region_id", "") or "",
                    "address": request.META.get("REMOTE_ADDR", ""),
                    "path": request.get_full_path(),
                    "status": response.status_code,
                    "download": is_file,
                },
            )
        return response
