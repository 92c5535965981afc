"""The API's one request parser: JSON, with numbers read as exact decimals."""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding


def _refuse_constant(name: str):
    raise ValueError(_("不支持 %(name)s") % {"name": name})


class DecimalJSONParser(JSONParser):
    """JSON whose numbers with a fraction become Decimal, never float: an amount sent as the
    number 100.005 must be seen as three decimals, not as the float nearest to it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            encoding = get_encoding(parser_context or {})
        except ParseError:
            raise ParseError(_("请求的 Content-Type 中的字符集不受支持：请使用 UTF-8")) from None
        try:
            decoded = codecs.getreader(encoding)(stream)
            return json.load(decoded, parse_float=Decimal, parse_constant=_refuse_constant)
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(_("请求体不是有效的 JSON：%(error)s") % {"error": exc}) from None
        except RecursionError:
            raise ParseError(_("请求体不是有效的 JSON：嵌套层数过多")) from None
