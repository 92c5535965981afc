"""The payments list as the page shows it, for the export worker (pension.exports)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import Payment

PAYMENT_HEADER = [
    "缴费时间", "姓名", "公民身份号码", "乡镇", "村(社区)", "缴费年度", "缴费类型", "金额（元）",
    "渠道", "来源", "凭证号", "冲正", "重复缴费待退",
]  # fmt: skip


def payment_export_rows(user, params: dict[str, str]) -> tuple[int, Iterator[list]]:
    """How many payments `user` saw with `params`, then their rows in the page's order, read
    as plain values in chunks. Amounts stay Decimal, so the sheet sums them exactly."""
    from collection.filters import PaymentFilter
    from collection.selectors import payment_list

    rows = PaymentFilter(params or None, queryset=payment_list(user=user)).qs
    kinds, channels, sources = (
        {value: str(label) for value, label in choices.choices}
        for choices in (Payment.Kind, Payment.Channel, Payment.Source)
    )
    columns = (
        "paid_at", "resident__name", "resident__id_number", "resident__village__parent__name",
        "resident__village__name", "contribution_year", "kind", "amount", "channel", "source",
        "voucher_no", "reverses_id", "duplicate_of_id",
    )  # fmt: skip

    def lines() -> Iterator[list]:
        yes = _("是")
        for row in rows.values_list(*columns).iterator(chunk_size=5000):
            (paid_at, name, number, township, village, year, kind, amount, channel, source,
             voucher, reverses, duplicate) = row  # fmt: skip
            yield [
                f"{timezone.localtime(paid_at):%Y-%m-%d %H:%M}", name, number, township, village,
                year,
                kinds.get(kind, kind), amount, channels.get(channel, channel),
                sources.get(source, source), voucher, yes if reverses else "",
                yes if duplicate else "",
            ]  # fmt: skip

    return rows.count(), lines()
