"""`Authorization: Bearer <key>`: the tax bureau's systems call the API with a county's key."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from reconciliation.services.keys import ApiKeyInvalid, api_key_authenticate

KEYWORD = "Bearer"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates as the key's tax-bureau account; `request.auth` is the ApiKey, so views
    and the request log know which key called. Scope then follows the account's region."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        scheme, _space, secret = header.decode("latin-1").partition(" ")
        secret = secret.strip()
        if scheme.lower() != KEYWORD.lower() or not secret:
            raise AuthenticationFailed(
                _("Authorization 请求头格式应为：Bearer <密钥>"), code="invalid_header"
            )
        try:
            key = api_key_authenticate(secret=secret)
        except ApiKeyInvalid as exc:
            raise AuthenticationFailed(exc.message, code=exc.code) from None
        return key.account, key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a call without a key.
        return f'{KEYWORD} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The Bearer scheme in the OpenAPI schema (and the docs page's "Authorize" button)."""

    target_class = "reconciliation.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": _("rpk_<前缀>_<密钥>"),
            "description": _(
                "县社保中心为税务局发放的接口密钥，按县授权；"
                "用 `python manage.py create_api_key --county 县代码 --name 名称` 创建。"
            ),
        }
