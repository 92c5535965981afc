"""Contribution schedules (policy as data) and the append-only payment ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from enrollment.models import Resident, SpecialGroupMembership
from pension.models import Region, RegionScopedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}


class ContributionScheduleQuerySet(models.QuerySet):
    def for_province_year(self, province_code: str, year: int) -> ContributionScheduleQuerySet:
        return self.filter(province_id=province_code, year=year)


class ContributionSchedule(models.Model):
    """One province's policy for one contribution year: tiers, subsidies, proxy payment, dates."""

    class SubsidyStatus(models.TextChoices):
        PENDING = "pending", "待核定"
        APPROVED = "approved", "已核定"

    province = models.ForeignKey(
        Region,
        verbose_name="省份",
        on_delete=models.PROTECT,
        related_name="schedules",
        limit_choices_to={"level": Region.Level.PROVINCE},
    )
    year = models.PositiveSmallIntegerField("缴费年度")
    proxy_amount = models.DecimalField("政府代缴金额", **MONEY, default=Decimal("100.00"))
    qualifying_categories = models.JSONField(
        "代缴对象类别",
        default=list,
        blank=True,
        help_text="特殊群体类别代码列表，如 dibao、tekun。",
    )
    window_start = models.DateField("征缴开始日期")
    window_end = models.DateField("征缴截止日期")
    proxy_due = models.DateField("政府代缴完成日期", null=True, blank=True)
    subsidy_status = models.CharField(
        "补贴标准状态",
        max_length=10,
        choices=SubsidyStatus.choices,
        default=SubsidyStatus.PENDING,
        help_text="文件未列明各档补贴时按国家最低标准预置，待县里核定后改为“已核定”。",
    )
    cash_limit_days = models.PositiveSmallIntegerField("现金最长留存天数（双限）", default=10)
    cash_limit_amount = models.DecimalField(
        "现金最高留存金额（双限）", **MONEY, default=Decimal("10000.00")
    )
    source_document = models.CharField("依据文件", max_length=200, blank=True)

    objects = ContributionScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = "缴费方案"
        verbose_name_plural = "缴费方案"
        ordering = ["-year", "province_id"]
        constraints = [
            models.UniqueConstraint(
                name="schedule_one_per_province_and_year", fields=["province", "year"]
            ),
            models.CheckConstraint(
                name="schedule_window_in_order",
                condition=Q(window_end__gte=models.F("window_start")),
            ),
            models.CheckConstraint(
                name="schedule_proxy_amount_positive", condition=Q(proxy_amount__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province.name} {self.year} 年缴费方案"

    def qualifies(self, category: str) -> bool:
        return category in (self.qualifying_categories or [])

    def qualifying_category_labels(self) -> list[str]:
        labels = dict(SpecialGroupMembership.Category.choices)
        return [labels.get(code, code) for code in self.qualifying_categories or []]


class Tier(models.Model):
    """One yearly amount a resident may choose, with the government subsidy it earns."""

    schedule = models.ForeignKey(
        ContributionSchedule,
        verbose_name="缴费方案",
        on_delete=models.CASCADE,
        related_name="tiers",
    )
    amount = models.DecimalField("缴费档次（元/年）", **MONEY)
    subsidy = models.DecimalField("政府补贴（元/年）", **MONEY)
    government_only = models.BooleanField(
        "仅限代缴对象", default=False, help_text="如云南的 100 元档，仅对符合代缴条件的人员开放。"
    )

    class Meta:
        verbose_name = "缴费档次"
        verbose_name_plural = "缴费档次"
        ordering = ["schedule_id", "amount"]
        constraints = [
            models.UniqueConstraint(
                name="tier_amount_unique_in_schedule", fields=["schedule", "amount"]
            ),
            models.CheckConstraint(name="tier_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="tier_subsidy_not_negative", condition=Q(subsidy__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.amount:.0f} 元"


class Milestone(models.Model):
    """A dated progress target of a schedule, e.g. 60% of payers by 30 June."""

    schedule = models.ForeignKey(
        ContributionSchedule,
        verbose_name="缴费方案",
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    due_on = models.DateField("完成时限")
    rate = models.DecimalField("进度目标（%）", max_digits=5, decimal_places=2)
    label = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "进度节点"
        verbose_name_plural = "进度节点"
        ordering = ["schedule_id", "due_on"]
        constraints = [
            models.UniqueConstraint(name="milestone_one_per_date", fields=["schedule", "due_on"]),
            models.CheckConstraint(
                name="milestone_rate_is_a_percentage", condition=Q(rate__gt=0) & Q(rate__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.due_on:%Y-%m-%d} 前达到 {self.rate}%"


class PaymentQuerySet(RegionScopedQuerySet):
    region_field = "resident__village__code"

    def for_year(self, year: int) -> PaymentQuerySet:
        return self.filter(contribution_year=year)

    def update(self, **kwargs):
        raise PaymentIsAppendOnly("缴费记录只能追加，不能修改；请登记冲正记录。")

    def delete(self):
        raise PaymentIsAppendOnly("缴费记录只能追加，不能删除；请登记冲正记录。")


class PaymentIsAppendOnly(Exception):
    """Raised when code tries to change or remove a recorded payment."""


class Payment(models.Model):
    """One movement of contribution money for one resident and one contribution year.

    Append-only: a wrong payment is never edited but reversed by a later row whose `reverses`
    points at it and whose amount is the negative of it. The database refuses UPDATE and DELETE.
    """

    class Kind(models.TextChoices):
        PERSONAL = "personal", "个人缴费"
        PROXY = "proxy", "政府代缴"
        BACK = "back", "补缴"

    class Channel(models.TextChoices):
        WECHAT = "wechat", "微信"
        ALIPAY = "alipay", "支付宝"
        BANK_COUNTER = "bank_counter", "银行柜面"
        BANK_APP = "bank_app", "手机银行"
        POS = "pos", "POS机"
        TAX_HALL = "tax_hall", "税务大厅"
        TOWNSHIP_OFFICE = "township_office", "乡镇社保所代征点"
        AGENT_CASH = "agent_cash", "村协办员代收现金"
        GOVERNMENT = "government", "财政代缴"

    class Source(models.TextChoices):
        COUNTER = "counter", "柜面录入"
        TAX_SYNC = "tax_sync", "税务同步"
        IMPORT = "import", "文件导入"
        PROXY_BATCH = "proxy_batch", "代缴批次"

    resident = models.ForeignKey(
        Resident, verbose_name="参保人", on_delete=models.PROTECT, related_name="payments"
    )
    contribution_year = models.PositiveSmallIntegerField("缴费年度")
    amount = models.DecimalField("金额（元）", **MONEY)
    subsidy = models.DecimalField("政府补贴（元）", **MONEY, default=Decimal("0.00"))
    kind = models.CharField("缴费类型", max_length=10, choices=Kind.choices)
    channel = models.CharField("缴费渠道", max_length=20, choices=Channel.choices)
    source = models.CharField("数据来源", max_length=15, choices=Source.choices)
    voucher_no = models.CharField("凭证号", max_length=40)
    paid_at = models.DateTimeField("缴费时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name="冲正的原记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    note = models.CharField("备注", max_length=200, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "缴费记录"
        verbose_name_plural = "缴费记录"
        ordering = ["-paid_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                name="payment_voucher_unique_per_source", fields=["source", "voucher_no"]
            ),
            models.CheckConstraint(
                name="payment_amount_positive_unless_reversal",
                condition=(Q(reverses__isnull=True) & Q(amount__gt=0))
                | (Q(reverses__isnull=False) & Q(amount__lt=0)),
            ),
            models.CheckConstraint(name="payment_voucher_not_blank", condition=~Q(voucher_no="")),
        ]
        indexes = [
            # Progress and the resident page: a resident's payments of a year.
            models.Index(
                fields=["resident", "contribution_year"], name="payment_resident_year_idx"
            ),
            # Monthly notices and reconciliation: payments of a period.
            models.Index(fields=["contribution_year", "paid_at"], name="payment_year_paid_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_no} {self.amount} 元"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PaymentIsAppendOnly("缴费记录只能追加，不能修改；请登记冲正记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PaymentIsAppendOnly("缴费记录只能追加，不能删除；请登记冲正记录。")

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None
