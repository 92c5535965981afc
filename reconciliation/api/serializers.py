"""The API's shapes, for the OpenAPI schema and for the small inputs (query strings).

The batch endpoint's records are not validated through these: DRF's field-by-field validation
of 5,000 records would cost more than the whole posting, so reconciliation/services/sync.py
checks them in plain Python and these serializers only document the same rules.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from collection.models import Payment
from reconciliation.models import SyncedRecord
from reconciliation.services import sync

# --- errors -------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("机器可读的错误代码，如 not_authenticated、invalid"))
    message = serializers.CharField(help_text=_("中文错误说明"))
    details = serializers.JSONField(
        allow_null=True, help_text=_("补充信息，如各字段的错误；无则为 null")
    )


class ErrorSerializer(serializers.Serializer):
    """Every error of the API has this body, whatever its HTTP status."""

    error = ErrorDetailSerializer()


# --- payments -----------------------------------------------------------------------------

_VOUCHER_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$"
_MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


class SyncRecordSerializer(serializers.Serializer):
    voucher_no = serializers.RegexField(
        _VOUCHER_PATTERN, max_length=40, label=_("电子税票号码"), help_text=_("电子税票号码")
    )
    id_number = serializers.CharField(
        max_length=18,
        min_length=15,
        label=_("证件号码"),
        help_text=_("证件号码（15位自动升为18位）"),
    )
    name = serializers.CharField(max_length=50, label=_("姓名"), help_text=_("姓名"))
    contribution_year = serializers.IntegerField(
        min_value=sync.FIRST_YEAR, label=_("缴费年度"), help_text=_("缴费年度")
    )
    tier = serializers.RegexField(
        _MONEY_PATTERN,
        label=_("缴费档次"),
        help_text=_("缴费档次，十进制数字符串，最多保留两位小数"),
    )
    amount = serializers.RegexField(
        _MONEY_PATTERN,
        label=_("实缴金额"),
        help_text=_("实缴金额，十进制数字符串，最多保留两位小数"),
    )
    kind = serializers.ChoiceField(
        choices=SyncedRecord.Kind.choices,
        label=_("缴费类型"),
        help_text=_("normal 正常缴费，back 补缴"),
    )
    paid_on = serializers.DateField(
        label=_("入库日期"), help_text=_("入库日期 YYYY-MM-DD，不晚于今天")
    )
    channel = serializers.ChoiceField(
        choices=[(c, Payment.Channel(c).label) for c in sync.CHANNELS],
        label=_("缴费渠道"),
        help_text=_("缴费渠道"),
    )
    tax_office = serializers.CharField(
        max_length=20, label=_("主管税务机关"), help_text=_("主管税务机关代码")
    )


class BatchRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=SyncRecordSerializer(),
        min_length=1,
        max_length=sync.MAX_BATCH,
        help_text=format_lazy(_("征收记录，每次 1 至 {max_batch} 条"), max_batch=sync.MAX_BATCH),
    )


class SyncResultSerializer(serializers.Serializer):
    voucher_no = serializers.CharField(help_text=_("电子税票号码（原样返回）"))
    status = serializers.ChoiceField(
        choices=[
            (sync.CREATED, _("已接收")),
            (sync.DUPLICATE, _("重复（已接收过相同记录，未重复入账）")),
            (sync.HELD, _("挂起（已接收，待县里处理）")),
            (sync.REJECTED, _("拒收（格式错误或与已接收记录不一致）")),
        ]
    )
    reason = serializers.CharField(allow_blank=True, help_text=_("挂起或拒收的原因；接收时为空"))


class BatchResponseSerializer(serializers.Serializer):
    results = SyncResultSerializer(many=True, help_text=_("按提交顺序逐条答复"))


class ReversalRequestSerializer(serializers.Serializer):
    reversal_voucher_no = serializers.RegexField(
        _VOUCHER_PATTERN, max_length=40, help_text=_("冲正（退费或作废）的电子税票号码")
    )
    kind = serializers.ChoiceField(
        choices=[(k, v) for k, v in sync.REVERSAL_KINDS.items()],
        help_text=_("refund 退费，void 作废"),
    )
    reason = serializers.CharField(max_length=150, help_text=_("冲正原因"))


class ReversalSerializer(serializers.Serializer):
    voucher_no = serializers.CharField(help_text=_("被冲正的电子税票号码"))
    reversal_voucher_no = serializers.CharField()
    amount = serializers.CharField(help_text=_("冲正金额（负数）"))
    reason = serializers.CharField()
    reversed_at = serializers.DateTimeField()
    created = serializers.BooleanField(help_text=_("本次新登记为 true；重复提交同一冲正为 false"))


# --- residents ----------------------------------------------------------------------------


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ResidentRegionSerializer(serializers.Serializer):
    village = CodeNameSerializer()
    township = CodeNameSerializer(allow_null=True)
    group = CodeNameSerializer(allow_null=True)


class TierSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text=_("缴费档次（元/年）"))
    subsidy = serializers.CharField(help_text=_("政府补贴（元/年）"))
    government_only = serializers.BooleanField(help_text=_("仅限政府代缴对象"))


class PaymentYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    amount = serializers.CharField(help_text=_("该年度计入的缴费合计（元）"))
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Payment.Kind.choices), help_text=_("缴费类型")
    )
    vouchers = serializers.ListField(child=serializers.CharField(), help_text=_("凭证号"))


class ResidentSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(help_text=_("参保状态代码"))
    status_label = serializers.CharField(help_text=_("参保状态"))
    region = ResidentRegionSerializer()
    year = serializers.IntegerField(help_text=_("本年度"))
    tiers = TierSerializer(many=True, help_text=_("本年度可选的缴费档次"))
    proxy = serializers.BooleanField(help_text=_("本年度是否由政府代缴"))
    payments = PaymentYearSerializer(many=True, help_text=_("各年度缴费"))


# --- payables -----------------------------------------------------------------------------


class PayablesQuerySerializer(serializers.Serializer):
    county = serializers.RegexField(r"^[0-9]{6}$", help_text=_("县级区划代码，如 530927"))
    year = serializers.IntegerField(
        min_value=sync.FIRST_YEAR, max_value=2100, help_text=_("缴费年度")
    )
    updated_since = serializers.CharField(
        required=False,
        help_text=_("只列出此时间以后有变化的参保人（ISO 8601，如 2023-03-01T00:00:00+08:00）"),
    )

    def validate_updated_since(self, value: str) -> datetime.datetime:
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None or not 2000 <= moment.year <= 2100:
            raise serializers.ValidationError(
                gettext("应为 ISO 8601 日期时间，如 2023-03-01T00:00:00+08:00")
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment


class PayableSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    name = serializers.CharField()
    village = serializers.CharField(help_text=_("村（社区）代码"))
    group = serializers.CharField(allow_null=True, help_text=_("村民小组代码"))
    status = serializers.CharField(
        help_text=_("参保状态代码：eligible 应参保未参保，enrolled 已参保")
    )
    proxy = serializers.BooleanField(help_text=_("本年度由政府代缴"))
    paid = serializers.BooleanField(help_text=_("本年度已有计入的缴费"))
    updated_at = serializers.DateTimeField()


# --- schedules ----------------------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class WindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class MilestoneSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    rate = serializers.CharField(help_text=_("进度目标（%）"))
    label = serializers.CharField(allow_blank=True)


class ScheduleSerializer(serializers.Serializer):
    province = CodeNameSerializer()
    year = serializers.IntegerField()
    tiers = TierSerializer(many=True)
    proxy_amount = serializers.CharField(help_text=_("政府代缴金额（元）"))
    qualifying_categories = CategorySerializer(many=True, help_text=_("政府代缴对象类别"))
    window = WindowSerializer(help_text=_("征缴期"))
    proxy_due = serializers.DateField(allow_null=True)
    subsidy_status = serializers.CharField(help_text=_("pending 待核定，approved 已核定"))
    milestones = MilestoneSerializer(many=True)
