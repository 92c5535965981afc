"""Tax and bank statements, the tax bureau's synced records, monthly reconciliation runs and the
discrepancies a person works through (DESIGN §6 rule 13)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from collection.models import MONEY, Payment
from enrollment.models import Resident
from pension.models import ImportJob, Region, RegionScopedQuerySet

# --- the tax bureau's API keys --------------------------------------------------------------


class ApiKeyQuerySet(RegionScopedQuerySet):
    region_field = "county__code"

    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """One key a tax-bureau system uses to call the sync API for one county.

    Only a digest of the key is kept: the key itself is shown once, when it is created. Requests
    made with it act as `account`, the county's tax-bureau account, so that the region scope and
    the audit trail are the same as for a person.
    """

    name = models.CharField(_("名称"), max_length=100)
    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.PROTECT,
        related_name="api_keys",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("税务局账号"),
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    prefix = models.CharField(_("密钥前缀"), max_length=16, unique=True)
    digest = models.CharField(_("密钥摘要"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("吊销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = pgettext_lazy("plural", "接口密钥")
        ordering = ["county_id", "name"]
        constraints = [
            models.UniqueConstraint(
                name="api_key_name_unique_per_county_while_active",
                fields=["county", "name"],
                condition=Q(revoked_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return gettext("%(name)s（%(prefix)s…）") % {"name": self.name, "prefix": self.prefix}

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiRequest(models.Model):
    """One call to the sync API: the key it came with (none when the key was wrong), what was
    asked and how it was answered. Kept for audit; never changed."""

    key = models.ForeignKey(
        ApiKey,
        verbose_name=_("接口密钥"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        db_index=False,  # api_request_key_at_idx leads with the key
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=200)
    status = models.PositiveSmallIntegerField(_("响应状态"))
    records = models.PositiveIntegerField(_("记录数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = pgettext_lazy("plural", "接口调用记录")
        ordering = ["-at", "-id"]
        indexes = [
            # The key's page in the admin: its recent calls.
            models.Index(fields=["key", "at"], name="api_request_key_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"


# --- records synced by the tax bureau -----------------------------------------------------


class SyncedRecordQuerySet(RegionScopedQuerySet):
    region_field = "region_code"


class SyncedRecord(models.Model):
    """One collection record (电子税票) the tax bureau sent through the API, as it was sent.

    A posted record points at the payment it became. A held one (ID not on file, name differs,
    amount not a tier) keeps the money on file, and a discrepancy, until a person resolves it:
    it is never dropped. The content never changes; only a held record's status moves on.
    """

    class Kind(models.TextChoices):
        NORMAL = "normal", _("正常缴费")
        BACK = "back", _("补缴")

    class Status(models.TextChoices):
        POSTED = "posted", _("已入账")
        HELD = "held", _("挂起待处理")

    voucher_no = models.CharField(_("电子税票号码"), max_length=40)
    id_number = models.CharField(_("证件号码"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    contribution_year = models.PositiveSmallIntegerField(_("缴费年度"))
    tier = models.DecimalField(_("缴费档次"), **MONEY)
    amount = models.DecimalField(_("实缴金额"), **MONEY)
    kind = models.CharField(_("缴费类型"), max_length=10, choices=Kind.choices)
    paid_on = models.DateField(_("入库日期"))
    channel = models.CharField(_("缴费渠道"), max_length=20, choices=Payment.Channel.choices)
    tax_office = models.CharField(_("主管税务机关"), max_length=20)
    # County and key are the authenticated key's own (keys and regions are never deleted): the
    # database does not check them row by row, which a sync of thousands a second would feel.
    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    region_code = models.CharField(
        _("所属区划"), max_length=15, help_text=_("参保人所在村；证件号码不在册时为县")
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("参保人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # nothing looks records up by resident; payments carry the resident
    )
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("入账记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="synced_record",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    hold_reason = models.CharField(_("挂起原因"), max_length=200, blank=True)
    key = models.ForeignKey(
        ApiKey,
        verbose_name=_("接口密钥"),
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    objects = SyncedRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("税务同步记录")
        verbose_name_plural = pgettext_lazy("plural", "税务同步记录")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(name="synced_record_voucher_unique", fields=["voucher_no"]),
            models.CheckConstraint(
                name="synced_record_posted_has_payment",
                condition=Q(status="held") | Q(payment__isnull=False),
            ),
            models.CheckConstraint(
                name="synced_record_held_has_reason",
                condition=~Q(status="held") | ~Q(hold_reason=""),
            ),
            models.CheckConstraint(name="synced_record_amount_positive", condition=Q(amount__gt=0)),
        ]
        indexes = [
            # The held records of a region (worklist, resident look-ups by the clerk).
            models.Index(
                fields=["region_code"],
                condition=Q(status="held"),
                opclasses=["varchar_pattern_ops"],
                name="synced_record_held_region_idx",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.voucher_no,
            "amount": self.amount,
        }


# --- monthly statements ---------------------------------------------------------------------


class StatementQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class Statement(models.Model):
    """One monthly statement file of a county: the tax bureau's collection detail (税务征收明细)
    or a bank's collection flow (银行流水). The same file imported again is this same row."""

    class Source(models.TextChoices):
        TAX = "tax", _("税务征收明细")
        BANK = "bank", _("银行流水")

    source = models.CharField(_("来源"), max_length=4, choices=Source.choices)
    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="statements"
    )
    month = models.DateField(_("所属月份"), help_text=_("该月第一天"))
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("文件摘要"), max_length=64)
    job = models.ForeignKey(
        ImportJob,
        verbose_name=_("导入任务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("行数"), default=0)
    created = models.PositiveIntegerField(_("新增行数"), default=0)
    total = models.DecimalField(_("金额合计（元）"), max_digits=16, decimal_places=2, default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("对账单")
        verbose_name_plural = pgettext_lazy("plural", "对账单")
        ordering = ["-month", "source", "-id"]
        constraints = [
            models.UniqueConstraint(
                name="statement_file_once_per_county_and_source",
                fields=["source", "county", "sha256"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county_id} {self.month:%Y-%m} {self.get_source_display()}"


class StatementLineQuerySet(RegionScopedQuerySet):
    region_field = "region_code"


class TaxLine(models.Model):
    """One row of a tax collection statement: one electronic tax voucher (电子税票).

    Lines are kept as the statement gave them, in their statement's county (`region_code`);
    the reconciliation looks their residents up by ID number itself.
    """

    statement = models.ForeignKey(
        Statement,
        verbose_name=_("对账单"),
        on_delete=models.PROTECT,
        related_name="tax_lines",
        db_index=False,
        # The import writes a statement and its lines in one transaction; a database check of
        # each of a month's million lines would double the import (bench/reconcile.py).
        db_constraint=False,
    )
    month = models.DateField(_("所属月份"))
    voucher_no = models.CharField(_("电子税票号码"), max_length=40)
    id_number = models.CharField(_("证件号码"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50)
    contribution_year = models.PositiveSmallIntegerField(_("缴费年度"))
    tier = models.DecimalField(_("缴费档次"), **MONEY, null=True, blank=True)
    amount = models.DecimalField(_("实缴金额"), **MONEY)
    paid_on = models.DateField(_("入库日期"))
    region_code = models.CharField(_("所属区划"), max_length=15, help_text=_("对账单所属的县"))

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("税务征收明细")
        verbose_name_plural = pgettext_lazy("plural", "税务征收明细")
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(name="tax_line_voucher_unique", fields=["voucher_no"]),
        ]
        # One index besides the voucher's: every index costs a month's million lines a few
        # seconds of import (bench/reconcile.py).
        indexes = [
            # Reconciliation: a county's lines of a month are the lines of its statements.
            models.Index(fields=["statement"], name="tax_line_statement_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.voucher_no,
            "amount": self.amount,
        }


class BankLine(models.Model):
    """One row of a bank's collection flow: money that reached the treasury account."""

    statement = models.ForeignKey(
        Statement,
        verbose_name=_("对账单"),
        on_delete=models.PROTECT,
        related_name="bank_lines",
        db_index=False,
        # The import writes a statement and its lines in one transaction; a database check of
        # each of a month's million lines would double the import (bench/reconcile.py).
        db_constraint=False,
    )
    month = models.DateField(_("所属月份"))
    serial_no = models.CharField(_("银行流水号"), max_length=40)
    voucher_no = models.CharField(_("电子税票号码"), max_length=40, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=18)
    amount = models.DecimalField(_("交易金额"), **MONEY)
    traded_on = models.DateField(_("交易日期"))
    region_code = models.CharField(_("所属区划"), max_length=15, help_text=_("对账单所属的县"))

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("银行流水")
        verbose_name_plural = pgettext_lazy("plural", "银行流水")
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(name="bank_line_serial_unique", fields=["serial_no"]),
        ]
        indexes = [
            # Reconciliation: a county's lines of a month are the lines of its statements. (It
            # matches vouchers by hashing whole months, so no voucher index is kept.)
            models.Index(fields=["statement"], name="bank_line_statement_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s 元") % {
            "number": self.serial_no,
            "amount": self.amount,
        }


# --- reconciliation runs and their results --------------------------------------------------


class ReconciliationRunQuerySet(RegionScopedQuerySet):
    region_field = "county__code"


class ReconciliationRun(models.Model):
    """One reconciliation of a county's month. Every run is kept; the latest finished one of a
    month is `is_current`, and its township totals are the month's result."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")  # asked for from the page; the worker has not started
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="reconciliation_runs"
    )
    month = models.DateField(_("所属月份"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    is_current = models.BooleanField(_("当前结果"), default=False)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("执行人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)

    objects = ReconciliationRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("对账")
        verbose_name_plural = pgettext_lazy("plural", "对账")
        ordering = ["-month", "-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                name="reconciliation_one_current_run_per_county_and_month",
                fields=["county", "month"],
                condition=Q(is_current=True),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(county)s %(month)s 对账 #%(run)s") % {
            "county": self.county_id,
            "month": f"{self.month:%Y-%m}",
            "run": self.pk,
        }


class TownshipTotal(models.Model):
    """One township's payer count and amount in each of the three ledgers for a run's month."""

    run = models.ForeignKey(
        ReconciliationRun, verbose_name=_("对账"), on_delete=models.PROTECT, related_name="totals"
    )
    township = models.ForeignKey(
        Region, verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    tax_count = models.PositiveIntegerField(_("税务笔数"), default=0)
    tax_sum = models.DecimalField(_("税务金额"), max_digits=16, decimal_places=2, default=0)
    bank_count = models.PositiveIntegerField(_("银行笔数"), default=0)
    bank_sum = models.DecimalField(_("银行金额"), max_digits=16, decimal_places=2, default=0)
    system_count = models.PositiveIntegerField(_("系统笔数"), default=0)
    system_sum = models.DecimalField(_("系统金额"), max_digits=16, decimal_places=2, default=0)
    matched = models.PositiveIntegerField(_("三方一致笔数"), default=0)
    discrepancies = models.PositiveIntegerField(_("差异笔数"), default=0)

    class Meta:
        verbose_name = _("乡镇对账汇总")
        verbose_name_plural = pgettext_lazy("plural", "乡镇对账汇总")
        ordering = ["run_id", "township_id"]
        constraints = [
            models.UniqueConstraint(
                name="township_total_one_per_run_and_township", fields=["run", "township"]
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(township)s 对账 #%(run)s") % {
            "township": self.township_id,
            "run": self.run_id,
        }

    @property
    def agrees(self) -> bool:
        return (
            (self.tax_count, self.tax_sum)
            == (self.bank_count, self.bank_sum)
            == (
                self.system_count,
                self.system_sum,
            )
        )


class DiscrepancyQuerySet(RegionScopedQuerySet):
    region_field = "region_code"

    def open(self) -> DiscrepancyQuerySet:
        return self.filter(status=Discrepancy.Status.OPEN)


class Discrepancy(models.Model):
    """One record of one ledger that could not be matched, or that disagrees: a case for a
    person. One row per record however many runs find it (`record_key`), in exactly one
    category; a resolved case stays resolved, and a run that no longer finds an open case
    marks it cleared."""

    class Category(models.TextChoices):
        TAX_NOT_POSTED = "tax_not_posted", _("税务已征收、系统未入账")
        POSTED_NO_TAX = "posted_no_tax", _("系统已入账、税务无记录")
        BANK_NO_TAX = "bank_no_tax", _("银行有流水、税务无记录")
        TAX_NO_BANK = "tax_no_bank", _("税务有记录、银行无流水")
        AMOUNT_DIFFERS = "amount_differs", _("金额不一致")
        NOT_A_TIER = "not_a_tier", _("金额不是缴费档次")
        DUPLICATE = "duplicate", _("同一年度重复缴费")
        ID_MISMATCH = "id_mismatch", _("身份证号码与姓名不符")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        RESOLVED = "resolved", _("已处理")
        CLEARED = "cleared", _("已自动消除")

    class Resolution(models.TextChoices):
        POSTED = "posted", _("补记入账")
        REFUNDED = "refunded", _("退费")
        LINKED = "linked", _("关联到正确的参保人")
        ACCEPTED = "accepted", _("说明后确认")

    record_key = models.CharField(
        _("记录标识"),
        max_length=60,
        help_text=_("tax:电子税票号码、bank:银行流水号、payment:缴费记录编号"),
    )
    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    region_code = models.CharField(_("所属区划"), max_length=15)
    month = models.DateField(_("所属月份"))
    category = models.CharField(_("差异类型"), max_length=20, choices=Category.choices)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    voucher_no = models.CharField(_("电子税票号码"), max_length=40, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=18, blank=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    contribution_year = models.PositiveSmallIntegerField(_("缴费年度"), null=True, blank=True)
    tax_amount = models.DecimalField(_("税务金额"), **MONEY, null=True, blank=True)
    bank_amount = models.DecimalField(_("银行金额"), **MONEY, null=True, blank=True)
    system_amount = models.DecimalField(_("系统金额"), **MONEY, null=True, blank=True)
    tax_line = models.ForeignKey(
        TaxLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    bank_line = models.ForeignKey(
        BankLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    synced_record = models.ForeignKey(
        SyncedRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    first_run = models.ForeignKey(
        ReconciliationRun,
        verbose_name=_("首次发现"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    last_run = models.ForeignKey(
        ReconciliationRun,
        verbose_name=_("最近发现"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    found_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    resolution = models.CharField(
        _("处理方式"), max_length=10, choices=Resolution.choices, blank=True
    )
    resolution_note = models.CharField(_("处理说明"), max_length=200, blank=True)
    resolution_payment = models.ForeignKey(
        Payment,
        verbose_name=_("处理产生的缴费记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = DiscrepancyQuerySet.as_manager()

    class Meta:
        verbose_name = _("对账差异")
        verbose_name_plural = pgettext_lazy("plural", "对账差异")
        ordering = ["month", "category", "id"]
        constraints = [
            models.UniqueConstraint(name="discrepancy_one_per_record", fields=["record_key"]),
            models.CheckConstraint(
                name="discrepancy_resolved_has_resolution",
                condition=~Q(status="resolved")
                | (~Q(resolution="") & Q(resolved_at__isnull=False)),
            ),
        ]
        indexes = [
            # The worklist: a county's (or township's) open cases of a month.
            models.Index(
                fields=["month", "region_code"],
                opclasses=["date_ops", "varchar_pattern_ops"],
                name="discrepancy_month_region_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.record_key}"
