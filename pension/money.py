"""Money in yuan as Decimal with two places; never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# What a clerk or a file may write around an amount: a full-width thousands comma, "300元".
FULL_WIDTH_COMMA = "，"
YUAN_SUFFIX = "元"
# Receipts write a negative amount in capitals after this word (负壹佰元整).
NEGATIVE_CAPITALS = "负"


class InvalidAmount(ValueError):
    """An amount that is not a positive sum of yuan with at most two decimal places."""


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """Read an amount as a clerk or a file writes it ("300", "300.00", 300); refuse floats.

    Floats are refused because 0.1 + 0.2 style errors must never reach a ledger; spreadsheets
    hand over Decimal or str through the project's reader.
    """
    if isinstance(value, float | bool):
        raise InvalidAmount(_("金额必须以文本或十进制数给出，不能是浮点数"))
    text = (
        str(value).strip().replace(",", "").replace(FULL_WIDTH_COMMA, "")
        if value is not None
        else ""
    )
    if text.endswith(YUAN_SUFFIX):
        text = text[:-1].strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount(_("金额格式错误：%(value)r") % {"value": value}) from None
    if not amount.is_finite():
        raise InvalidAmount(_("金额格式错误：%(value)r") % {"value": value})
    if amount != amount.quantize(CENT):
        raise InvalidAmount(_("金额最多保留两位小数：%(amount)s") % {"amount": text})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidAmount(_("金额必须大于零：%(amount)s") % {"amount": text})
    return amount.quantize(CENT)


def in_capitals(amount: Decimal) -> str:
    """An amount in Chinese capitals as receipts write it: 1234.50 -> 壹仟贰佰叁拾肆元伍角."""
    if amount < 0:
        return NEGATIVE_CAPITALS + in_capitals(-amount)
    return cn2an.an2cn(f"{amount:.2f}", "rmb")
