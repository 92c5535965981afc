"""Money in yuan as Decimal with two places; never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class InvalidAmount(ValueError):
    """An amount that is not a positive sum of yuan with at most two decimal places."""


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """Read an amount as a clerk or a file writes it ("300", "300.00", 300); refuse floats.

    Floats are refused because 0.1 + 0.2 style errors must never reach a ledger; spreadsheets
    hand over Decimal or str through the project's reader.
    """
    if isinstance(value, float | bool):
        raise InvalidAmount("金额必须以文本或十进制数给出，不能是浮点数")
    text = str(value).strip().replace(",", "").replace("，", "") if value is not None else ""
    if text.endswith("元"):
        text = text[:-1].strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount(f"金额格式错误：{value!r}") from None
    if not amount.is_finite():
        raise InvalidAmount(f"金额格式错误：{value!r}")
    if amount != amount.quantize(CENT):
        raise InvalidAmount(f"金额最多保留两位小数：{text}")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidAmount(f"金额必须大于零：{text}")
    return amount.quantize(CENT)


def in_capitals(amount: Decimal) -> str:
    """An amount in Chinese capitals as receipts write it: 1234.50 -> 壹仟贰佰叁拾肆元伍角."""
    if amount < 0:
        return "负" + in_capitals(-amount)
    return cn2an.an2cn(f"{amount:.2f}", "rmb")
