"""Contribution schedules (policy as data) and the append-only payment ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enrollment.models import Resident, SpecialGroupMembership
from pension.models import Region, RegionScopedQuerySet, county_of

MONEY = {"max_digits": 12, "decimal_places": 2}


class ContributionScheduleQuerySet(models.QuerySet):
    def for_province_year(self, province_code: str, year: int) -> ContributionScheduleQuerySet:
        return self.filter(province_id=province_code, year=year)


class ContributionSchedule(models.Model):
    """One province's policy for one contribution year: tiers, subsidies, proxy payment, dates."""

    class SubsidyStatus(models.TextChoices):
        PENDING = "pending", _("待核定")
        APPROVED = "approved", _("已核定")

    province = models.ForeignKey(
        Region,
        verbose_name=_("省份"),
        on_delete=models.PROTECT,
        related_name="schedules",
        limit_choices_to={"level": Region.Level.PROVINCE},
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    proxy_amount = models.DecimalField(_("政府代缴金额"), **MONEY, default=Decimal("100.00"))
    qualifying_categories = models.JSONField(
        _("代缴对象类别"),
        default=list,
        blank=True,
        help_text=_("特殊群体类别代码列表，如 dibao、tekun。"),
    )
    window_start = models.DateField(_("征缴开始日期"))
    window_end = models.DateField(_("征缴截止日期"))
    proxy_due = models.DateField(_("政府代缴完成日期"), null=True, blank=True)
    subsidy_status = models.CharField(
        _("补贴标准状态"),
        max_length=10,
        choices=SubsidyStatus.choices,
        default=SubsidyStatus.PENDING,
        help_text=_("文件未列明各档补贴时按国家最低标准预置，待县里核定后改为“已核定”。"),
    )
    cash_limit_days = models.PositiveSmallIntegerField(_("现金最长留存天数（双限）"), default=10)
    cash_limit_amount = models.DecimalField(
        _("现金最高留存金额（双限）"), **MONEY, default=Decimal("10000.00")
    )
    source_document = models.CharField(_("依据文件"), max_length=200, blank=True)

    objects = ContributionScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("缴费方案")
        verbose_name_plural = _("缴费方案")
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
        return gettext("%(province)s %(year)s 年缴费方案") % {
            "province": self.province.name,
            "year": self.year,
        }

    def qualifies(self, category: str) -> bool:
        return category in (self.qualifying_categories or [])

    def qualifying_category_labels(self) -> list[str]:
        labels = {value: str(label) for value, label in SpecialGroupMembership.Category.choices}
        return [labels.get(code, code) for code in self.qualifying_categories or []]


class Tier(models.Model):
    """One yearly amount a resident may choose, with the government subsidy it earns."""

    schedule = models.ForeignKey(
        ContributionSchedule,
        verbose_name=_("缴费方案"),
        on_delete=models.CASCADE,
        related_name="tiers",
    )
    amount = models.DecimalField(_("缴费档次（元/年）"), **MONEY)
    subsidy = models.DecimalField(_("政府补贴（元/年）"), **MONEY)
    government_only = models.BooleanField(
        _("仅限代缴对象"),
        default=False,
        help_text=_("如云南的 100 元档，仅对符合代缴条件的人员开放。"),
    )

    class Meta:
        verbose_name = _("缴费档次")
        verbose_name_plural = _("缴费档次")
        ordering = ["schedule_id", "amount"]
        constraints = [
            models.UniqueConstraint(
                name="tier_amount_unique_in_schedule", fields=["schedule", "amount"]
            ),
            models.CheckConstraint(name="tier_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="tier_subsidy_not_negative", condition=Q(subsidy__gte=0)),
        ]

    def __str__(self) -> str:
        return gettext("%(amount)s 元") % {"amount": f"{self.amount:.0f}"}


class Milestone(models.Model):
    """A dated progress target of a schedule, e.g. 60% of payers by 30 June."""

    schedule = models.ForeignKey(
        ContributionSchedule,
        verbose_name=_("缴费方案"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    due_on = models.DateField(_("完成时限"))
    rate = models.DecimalField(_("进度目标（%）"), max_digits=5, decimal_places=2)
    label = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("进度节点")
        verbose_name_plural = _("进度节点")
        ordering = ["schedule_id", "due_on"]
        constraints = [
            models.UniqueConstraint(name="milestone_one_per_date", fields=["schedule", "due_on"]),
            models.CheckConstraint(
                name="milestone_rate_is_a_percentage", condition=Q(rate__gt=0) & Q(rate__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(date)s 前达到 %(rate)s%%") % {
            "date": f"{self.due_on:%Y-%m-%d}",
            "rate": self.rate,
        }


class PaymentQuerySet(RegionScopedQuerySet):
    region_field = "resident__village__code"

    def for_year(self, year: int) -> PaymentQuerySet:
        return self.filter(contribution_year=year)

    def counted(self) -> PaymentQuerySet:
        """Income and progress: not a duplicate awaiting refund, not reversed, not a reversal.

        "Not reversed" is a NOT EXISTS rather than the LEFT JOIN of `reversed_by__isnull`:
        PostgreSQL estimates the anti-join well, where the join's IS NULL led it to expect one
        row of a million and to plan nested loops (bench/collection.py).
        """
        reversal = self.model._base_manager.filter(reverses=models.OuterRef("pk"))
        return self.filter(
            ~models.Exists(reversal), duplicate_of__isnull=True, reverses__isnull=True
        )

    def update(self, **kwargs):
        raise PaymentIsAppendOnly(gettext("缴费记录只能追加，不能修改；请登记冲正记录。"))

    def delete(self):
        raise PaymentIsAppendOnly(gettext("缴费记录只能追加，不能删除；请登记冲正记录。"))


class PaymentIsAppendOnly(Exception):
    """Raised when code tries to change or remove a recorded payment."""


class Payment(models.Model):
    """One movement of contribution money for one resident and one contribution year.

    Append-only: a wrong payment is never edited but reversed by a later row whose `reverses`
    points at it and whose amount is the negative of it. The database refuses UPDATE and DELETE.
    """

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("个人缴费")
        PROXY = "proxy", _("政府代缴")
        BACK = "back", _("补缴")

    class Channel(models.TextChoices):
        WECHAT = "wechat", _("微信")
        ALIPAY = "alipay", _("支付宝")
        BANK_COUNTER = "bank_counter", _("银行柜面")
        BANK_APP = "bank_app", _("手机银行")
        POS = "pos", _("POS机")
        TAX_HALL = "tax_hall", _("税务大厅")
        TOWNSHIP_OFFICE = "township_office", _("乡镇社保所代征点")
        AGENT_CASH = "agent_cash", _("村协办员代收现金")
        GOVERNMENT = "government", _("财政代缴")

    # Cash collected by the campaign's own people (现金征收): a village agent's cash and the
    # township office's collection point. The notice asks to keep it small and to inspect the
    # units where its share is high; cash paid at a bank counter or the tax hall is the bank's
    # or the tax bureau's to handle and is not counted here.
    CASH_CHANNELS = (Channel.AGENT_CASH, Channel.TOWNSHIP_OFFICE)

    class Source(models.TextChoices):
        COUNTER = "counter", _("柜面录入")
        TAX_SYNC = "tax_sync", _("税务同步")
        IMPORT = "import", _("文件导入")
        PROXY_BATCH = "proxy_batch", _("代缴批次")

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("参保人"),
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,  # payment_resident_year_idx leads with the resident
    )
    # The resident's county, copied when the payment is written (residents never change
    # county: the registry comparison moves them between villages of one county only). Bulk
    # work of one county reads its payments by this column instead of joining every resident
    # of the province; see payment_county_year_idx.
    county_code = models.CharField(_("县区代码"), max_length=6, editable=False)
    contribution_year = models.PositiveSmallIntegerField(_("缴费年度"))
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    subsidy = models.DecimalField(_("政府补贴（元）"), **MONEY, default=Decimal("0.00"))
    kind = models.CharField(_("缴费类型"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("缴费渠道"), max_length=20, choices=Channel.choices)
    source = models.CharField(_("数据来源"), max_length=15, choices=Source.choices)
    voucher_no = models.CharField(_("凭证号"), max_length=40)
    paid_at = models.DateTimeField(_("缴费时间"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # nothing looks payments up by operator; users are deactivated, not deleted
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的原记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        help_text=_("同一年度的第二笔个人缴费：记为重复缴费待退，不计入收入和进度。"),
        db_index=False,  # payment_duplicate_idx: only the few duplicates are indexed
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("缴费记录")
        verbose_name_plural = _("缴费记录")
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
            models.CheckConstraint(
                name="payment_county_code_length", condition=Q(county_code__length=6)
            ),
        ]
        indexes = [
            # Progress and the resident page: a resident's payments of a year.
            models.Index(
                fields=["resident", "contribution_year"], name="payment_resident_year_idx"
            ),
            # Monthly notices and reconciliation: payments of a period.
            models.Index(fields=["contribution_year", "paid_at"], name="payment_year_paid_at_idx"),
            # One county's payments of a year (the progress rebuild), read without the other
            # counties of the province.
            models.Index(
                fields=["county_code", "contribution_year", "paid_at"],
                name="payment_county_year_idx",
            ),
            # The payments list and its API, newest first: a page is read off the index
            # instead of sorting every payment of the region.
            models.Index(fields=["paid_at", "id"], name="payment_paid_at_idx"),
            # Duplicates awaiting refund; the other payments (nearly all) stay out of the index.
            models.Index(
                fields=["duplicate_of"],
                condition=Q(duplicate_of__isnull=False),
                name="payment_duplicate_idx",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.voucher_no,
            "amount": self.amount,
        }

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PaymentIsAppendOnly(gettext("缴费记录只能追加，不能修改；请登记冲正记录。"))
        if not self.county_code:
            self.county_code = county_of(self.resident.village_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PaymentIsAppendOnly(gettext("缴费记录只能追加，不能删除；请登记冲正记录。"))

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


# --- targets and progress -----------------------------------------------------------------


class TargetQuerySet(RegionScopedQuerySet):
    region_field = "region__code"


class Target(models.Model):
    """参保任务数: how many residents a township or village is expected to have paying in a year."""

    region = models.ForeignKey(
        Region, verbose_name=_("乡镇或村"), on_delete=models.PROTECT, related_name="targets"
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    count = models.PositiveIntegerField(_("参保任务数"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField(_("设定时间"), auto_now=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("参保任务数")
        verbose_name_plural = _("参保任务数")
        ordering = ["year", "region_id"]
        constraints = [
            models.UniqueConstraint(
                name="target_one_per_region_and_year", fields=["region", "year"]
            )
        ]

    def __str__(self) -> str:
        return gettext("%(region)s %(year)s 年任务 %(count)s 人") % {
            "region": self.region_id,
            "year": self.year,
            "count": self.count,
        }


class VillageProgressQuerySet(RegionScopedQuerySet):
    region_field = "village__code"


class VillageProgress(models.Model):
    """One village's progress on one day, kept by the nightly task so that dashboards and charts
    read a few thousand small rows instead of scanning every payment."""

    village = models.ForeignKey(
        Region, verbose_name=_("村(社区)"), on_delete=models.PROTECT, related_name="progress"
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    day = models.DateField(_("日期"))
    expected = models.PositiveIntegerField(
        _("应缴人数"), help_text=_("任务数；未设任务数时为已参保未封存人数")
    )
    paid = models.PositiveIntegerField(_("已缴人数"), help_text=_("有个人缴费或政府代缴的人数"))
    proxy_paid = models.PositiveIntegerField(_("政府代缴人数"), default=0)
    proxy_qualifying = models.PositiveIntegerField(
        _("符合代缴条件人数"), default=0, help_text=_("应代尽代：当年属于代缴群体的参保人")
    )
    proxy_qualifying_paid = models.PositiveIntegerField(
        _("其中已代缴人数"), default=0, help_text=_("符合代缴条件且已有当年政府代缴的人数")
    )
    benefits_due = models.PositiveIntegerField(
        _("应领未领人数"), default=0, help_text=_("应发尽发：达到领取条件、尚未领取待遇的人数")
    )
    amount = models.DecimalField(_("个人缴费金额（元）"), **MONEY, default=Decimal("0.00"))
    cash_paid = models.PositiveIntegerField(
        _("现金缴费人数"), default=0, help_text=_("个人缴费经村协办员或乡镇代征点以现金收取的人数")
    )
    cash_amount = models.DecimalField(_("现金缴费金额（元）"), **MONEY, default=Decimal("0.00"))

    objects = VillageProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("村级征缴进度")
        verbose_name_plural = _("村级征缴进度")
        ordering = ["year", "day", "village_id"]
        constraints = [
            models.UniqueConstraint(
                name="progress_one_per_village_year_and_day", fields=["village", "year", "day"]
            )
        ]
        indexes = [
            models.Index(
                fields=["year", "day", "village"],
                opclasses=["int2_ops", "date_ops", "varchar_pattern_ops"],
                name="progress_year_day_village_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.day:%Y-%m-%d} {self.paid}/{self.expected}"


# --- proxy payment batches (动态清零) -----------------------------------------------------


class ProxyBatchQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class ProxyBatch(models.Model):
    """The residents of a county who qualify for 政府代缴 this year and have no proxy payment yet.

    Generated by a person or the monthly task, approved by a county user other than the one who
    generated it, then posted: the proxy payments are created in bulk.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已审批")
        POSTING = "posting", _("入账中")  # asked for from the page; the worker posts it
        POSTED = "posted", _("已入账")
        CANCELLED = "cancelled", _("已作废")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="proxy_batches"
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    qualifying = models.PositiveIntegerField(_("符合代缴条件人数"), default=0)
    already_paid = models.PositiveIntegerField(_("已代缴人数"), default=0)
    resident_count = models.PositiveIntegerField(_("本批人数"), default=0)
    amount = models.DecimalField(_("本批金额（元）"), **MONEY, default=Decimal("0.00"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    posted_at = models.DateTimeField(_("入账时间"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("入账人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ProxyBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("政府代缴批次")
        verbose_name_plural = _("政府代缴批次")
        ordering = ["-generated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="proxy_batch_approved_by_another_person",
                condition=Q(approved_by__isnull=True)
                | Q(generated_by__isnull=True)
                | ~Q(approved_by=models.F("generated_by")),
            ),
            models.CheckConstraint(
                name="proxy_batch_approved_before_posting",
                condition=~Q(status__in=["approved", "posted"])
                | (Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
            ),
            models.UniqueConstraint(
                name="proxy_batch_one_open_per_county_and_year",
                fields=["county", "year"],
                condition=Q(status__in=["pending", "approved"]),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(county)s %(year)s 年代缴批次 #%(id)s") % {
            "county": self.county_id,
            "year": self.year,
            "id": self.pk,
        }


class ProxyBatchItem(models.Model):
    batch = models.ForeignKey(
        ProxyBatch,
        verbose_name=_("批次"),
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # proxy_item_one_per_resident_in_batch leads with the batch
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("参保人"), on_delete=models.PROTECT, related_name="proxy_items"
    )
    category = models.CharField(
        _("代缴类别"), max_length=20, choices=SpecialGroupMembership.Category.choices
    )
    amount = models.DecimalField(_("代缴金额（元）"), **MONEY)
    payment = models.OneToOneField(
        "Payment",
        verbose_name=_("入账记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proxy_item",
    )

    class Meta:
        verbose_name = _("代缴批次明细")
        verbose_name_plural = _("代缴批次明细")
        ordering = ["batch_id", "resident_id"]
        constraints = [
            models.UniqueConstraint(
                name="proxy_item_one_per_resident_in_batch", fields=["batch", "resident"]
            )
        ]

    def __str__(self) -> str:
        return gettext("%(batch)s: %(resident)s %(amount)s 元") % {
            "batch": self.batch_id,
            "resident": self.resident_id,
            "amount": self.amount,
        }


# --- village agents: cash and remittances (双限) -------------------------------------------


class ProxyGenerationQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class ProxyGeneration(models.Model):
    """A generation of a county's proxy batch asked for from the batch list: on file at once as
    pending, done by the worker, and followed by its page until it shows what it found."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="proxy_generations"
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    batch = models.ForeignKey(
        ProxyBatch,
        verbose_name=_("批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What proxy_batch_generate found (ProxyBatchResult.as_dict), or {"error": ...}.
    summary = models.JSONField(_("结果"), default=dict, blank=True)

    objects = ProxyGenerationQuerySet.as_manager()

    class Meta:
        verbose_name = _("代缴批次生成")
        verbose_name_plural = pgettext_lazy("plural", "代缴批次生成")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return gettext("%(county)s %(year)s 年代缴批次生成 #%(id)s") % {
            "county": self.county_id,
            "year": self.year,
            "id": self.pk,
        }


class AgentProfile(models.Model):
    """An agent's signed safety commitment (费款安全承诺书); their villages are on the user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协办员"),
        on_delete=models.PROTECT,
        related_name="agent_profile",
    )
    commitment_signed_on = models.DateField(_("承诺书签订日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("协办员承诺")
        verbose_name_plural = _("协办员承诺")

    def __str__(self) -> str:
        return str(self.user)


class CashReceiptQuerySet(RegionScopedQuerySet):
    region_field = "resident__village__code"

    def unremitted(self) -> CashReceiptQuerySet:
        return self.filter(remittance__isnull=True)

    def awaiting_tax_record(self) -> CashReceiptQuerySet:
        """Remitted at the bank, not yet matched to the tax bureau's record of the money."""
        return self.filter(remittance__isnull=False, payment__isnull=True)


class Remittance(models.Model):
    """Cash an agent paid in at the bank (结报缴销), covering some of their receipts."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协办员"),
        on_delete=models.PROTECT,
        related_name="remittances",
    )
    amount = models.DecimalField(_("缴销金额（元）"), **MONEY)
    remitted_on = models.DateField(_("缴销日期"))
    bank_voucher = models.CharField(_("银行凭证号"), max_length=40, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("现金缴销")
        verbose_name_plural = _("现金缴销")
        ordering = ["-remitted_on", "-id"]
        constraints = [
            models.CheckConstraint(name="remittance_amount_positive", condition=Q(amount__gt=0))
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.bank_voucher,
            "amount": self.amount,
        }


class CashReceipt(models.Model):
    """Cash an agent collected from a resident; it becomes a payment once the tax record of the
    remittance arrives (reconciliation), and until then counts as collected, not paid."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协办员"),
        on_delete=models.PROTECT,
        related_name="cash_receipts",
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("参保人"), on_delete=models.PROTECT, related_name="cash_receipts"
    )
    contribution_year = models.PositiveSmallIntegerField(_("缴费年度"))
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    collected_on = models.DateField(_("收款日期"))
    receipt_no = models.CharField(_("收据号"), max_length=40)
    remittance = models.ForeignKey(
        Remittance,
        verbose_name=_("缴销记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("入账记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cash_receipt",
        help_text=_("缴销后税务记录到达、入账时关联的缴费记录。"),
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = CashReceiptQuerySet.as_manager()

    class Meta:
        verbose_name = _("现金代收")
        verbose_name_plural = _("现金代收")
        ordering = ["collected_on", "id"]
        constraints = [
            models.UniqueConstraint(
                name="cash_receipt_number_unique_per_agent", fields=["agent", "receipt_no"]
            ),
            models.CheckConstraint(name="cash_receipt_amount_positive", condition=Q(amount__gt=0)),
        ]
        indexes = [
            models.Index(
                fields=["agent", "collected_on"],
                condition=Q(remittance__isnull=True),
                name="cash_receipt_unremitted_idx",
            )
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.receipt_no,
            "amount": self.amount,
        }


class CashLimitBreach(models.Model):
    """An agent found over a 双限 limit by the daily check; one row per agent, day and limit."""

    class Kind(models.TextChoices):
        DAYS = "days", _("现金留存超过天数")
        AMOUNT = "amount", _("现金留存超过金额")

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("协办员"),
        on_delete=models.PROTECT,
        related_name="cash_breaches",
    )
    day = models.DateField(_("检查日期"))
    kind = models.CharField(_("超限类型"), max_length=10, choices=Kind.choices)
    oldest_collected_on = models.DateField(_("最早未缴销收款日期"))
    unremitted = models.DecimalField(_("未缴销金额（元）"), **MONEY)

    class Meta:
        verbose_name = _("双限超限")
        verbose_name_plural = _("双限超限")
        ordering = ["-day", "agent_id"]
        constraints = [
            models.UniqueConstraint(
                name="cash_breach_one_per_agent_day_and_kind", fields=["agent", "day", "kind"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day:%Y-%m-%d} {self.get_kind_display()}"


# --- public notices (公示) ----------------------------------------------------------------


class NoticeQuerySet(RegionScopedQuerySet):
    region_field = "group__code"


class Notice(models.Model):
    """One villager group's notice for one period: due, generated or overdue."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月度缴费公示")
        PAID = "paid", _("年度已缴费名单")
        UNPAID = "unpaid", _("年度未缴费名单")

    group = models.ForeignKey(
        Region, verbose_name=_("村民小组"), on_delete=models.PROTECT, related_name="notices"
    )
    kind = models.CharField(_("公示类型"), max_length=10, choices=Kind.choices)
    period = models.CharField(_("期间"), max_length=7, help_text=_("月度为 YYYY-MM，年度为 YYYY"))
    due_on = models.DateField(_("公示时限"))
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("公示人数"), default=0)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["due_on", "group_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                name="notice_one_per_group_kind_and_period", fields=["group", "kind", "period"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.group_id} {self.get_kind_display()} {self.period}"


# --- revisits (回访) -------------------------------------------------------------------------


class RevisitSampleQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class RevisitSample(models.Model):
    """Payers drawn at random for a revisit: `townships` townships of the county and `payers`
    payers in each, from the personal payments of a period. The seed is kept, so the same
    draw on the same payments gives the same sample."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="revisit_samples"
    )
    period_start = models.DateField(_("缴费起始日期"))
    period_end = models.DateField(_("缴费截止日期"))
    townships = models.PositiveSmallIntegerField(_("抽取乡镇数"))
    payers = models.PositiveSmallIntegerField(_("每乡镇抽取人数"))
    seed = models.PositiveBigIntegerField(_("随机种子"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽取人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("抽取时间"), auto_now_add=True)

    objects = RevisitSampleQuerySet.as_manager()

    class Meta:
        verbose_name = _("回访抽样")
        verbose_name_plural = _("回访抽样")
        ordering = ["-drawn_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="revisit_sample_period_in_order",
                condition=Q(period_start__lte=models.F("period_end")),
            ),
            models.CheckConstraint(
                name="revisit_sample_sizes_positive", condition=Q(townships__gt=0, payers__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(county)s回访抽样 #%(pk)s") % {"county": self.county_id, "pk": self.pk}


class RevisitItem(models.Model):
    """One payer of a sample, with the payment drawn and what the revisit found."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待回访")
        CONFIRMED = "confirmed", _("情况属实")
        AMOUNT_DIFFERS = "amount_differs", _("金额不符")
        DID_NOT_PAY = "did_not_pay", _("本人未缴费")
        UNREACHABLE = "unreachable", _("无法联系")

    sample = models.ForeignKey(
        RevisitSample, verbose_name=_("回访抽样"), on_delete=models.CASCADE, related_name="items"
    )
    payment = models.ForeignKey(
        Payment, verbose_name=_("缴费记录"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        Region, verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(
        _("回访结果"), max_length=15, choices=Outcome.choices, default=Outcome.PENDING
    )
    note = models.CharField(_("回访说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访对象")
        verbose_name_plural = _("回访对象")
        ordering = ["sample", "township", "id"]
        constraints = [
            models.UniqueConstraint(
                name="revisit_item_one_per_payment", fields=["sample", "payment"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.payment_id} {self.outcome}"


# --- weekly bulletins (每周进展通报) ----------------------------------------------------------


class BulletinQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class Bulletin(models.Model):
    """A county's progress bulletin as of a day, kept as published: its figures are frozen in
    `content` when it is made, so a past bulletin opens again exactly as it was sent out."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="bulletins"
    )
    year = models.PositiveSmallIntegerField(_("缴费年度"))
    day = models.DateField(_("统计截止日期"))
    number = models.PositiveSmallIntegerField(_("期数"))
    content = models.JSONField(_("通报内容"), encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("进展通报")
        verbose_name_plural = _("进展通报")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                name="bulletin_one_per_county_year_day", fields=["county", "year", "day"]
            ),
            models.UniqueConstraint(
                name="bulletin_number_unique_per_county_year", fields=["county", "year", "number"]
            ),
            models.CheckConstraint(name="bulletin_number_positive", condition=Q(number__gt=0)),
        ]

    def __str__(self) -> str:
        return gettext("%(county)s%(year)s年第%(number)s期进展通报") % {
            "county": self.county_id,
            "year": self.year,
            "number": self.number,
        }
