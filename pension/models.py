"""The shared kernel: administrative regions, staff accounts with their scope, the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from collections.abc import Iterable


models.CharField.register_lookup(Length)


class RegionScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to a region through a code column.

    Subclasses name that column in `region_field`. `visible_to(user)` is the one place where the
    region scope of pages, API endpoints and exports is applied.
    """

    region_field: str = "code"

    def in_region(self, region: Region | str) -> RegionScopedQuerySet:
        code = region if isinstance(region, str) else region.code
        return self.filter(**{f"{self.region_field}__startswith": code})

    def in_any_region(self, codes: Iterable[str]) -> RegionScopedQuerySet:
        condition = Q()
        for code in codes:
            condition |= Q(**{f"{self.region_field}__startswith": code})
        if not condition:
            return self.none()
        return self.filter(condition)

    def visible_to(self, user) -> RegionScopedQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.in_any_region(user.scope_codes())


class RegionQuerySet(RegionScopedQuerySet):
    region_field = "code"


class Region(models.Model):
    """One administrative unit, from province down to villager group.

    The code is the primary key and every level's code extends its parent's, so "everything in a
    county" is a prefix match on the code; tables that point at a region inherit that property.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        PREFECTURE = "prefecture", _("市/州")
        COUNTY = "county", _("县/市/区")
        TOWNSHIP = "township", _("乡/镇/街道")
        VILLAGE = "village", _("村/社区")
        GROUP = "group", _("村民小组")

    CODE_LENGTH = {
        Level.PROVINCE: 2,
        Level.PREFECTURE: 4,
        Level.COUNTY: 6,
        Level.TOWNSHIP: 9,
        Level.VILLAGE: 12,
        Level.GROUP: 15,
    }

    code = models.CharField(_("区划代码"), max_length=15, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = pgettext_lazy("plural", "行政区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="region_code_length_matches_level",
                condition=(
                    Q(level="province", code__length=2)
                    | Q(level="prefecture", code__length=4)
                    | Q(level="county", code__length=6)
                    | Q(level="township", code__length=9)
                    | Q(level="village", code__length=12)
                    | Q(level="group", code__length=15)
                ),
            ),
            models.CheckConstraint(
                name="region_code_is_digits",
                condition=Q(code__regex=r"^[0-9]+$"),
            ),
            models.CheckConstraint(
                name="region_code_extends_parent_code",
                condition=Q(parent__isnull=True) | Q(code__startswith=models.F("parent_id")),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s（%(code)s）") % {"name": self.name, "code": self.code}

    @classmethod
    def level_for_code(cls, code: str) -> str | None:
        for level, length in cls.CODE_LENGTH.items():
            if len(code) == length:
                return level
        return None

    @property
    def county_code(self) -> str | None:
        return county_of(self.code) if len(self.code) >= 6 else None

    @property
    def province_code(self) -> str:
        return self.code[:2]

    def ancestor_codes(self) -> list[str]:
        """Codes of every ancestor, nearest last, derived from the code itself."""
        return [self.code[:n] for n in (2, 4, 6, 9, 12) if n < len(self.code)]


def county_of(code: str) -> str:
    """The county part of a region code: the first six digits (DESIGN §4)."""
    return code[: Region.CODE_LENGTH[Region.Level.COUNTY]]


class User(AbstractUser):
    """A staff account: a person in a role, working inside one region.

    Township staff work in their township, village agents in their villages, the county bureau,
    the tax bureau and auditors in their county.
    """

    class Role(models.TextChoices):
        COUNTY = "county", _("县人社局/社保中心")
        TOWNSHIP = "township", _("乡镇社保所")
        AGENT = "agent", _("村协办员")
        TAX = "tax", _("税务局")
        AUDITOR = "auditor", _("审计监督（只读）")

    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    villages = models.ManyToManyField(
        Region,
        verbose_name=_("负责的村（协办员）"),
        blank=True,
        related_name="agents",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = pgettext_lazy("plural", "工作人员")
        constraints = [
            models.CheckConstraint(
                name="user_role_known_or_blank",
                condition=Q(role__in=["", "county", "township", "agent", "tax", "auditor"]),
            ),
        ]

    @property
    def display_name(self) -> str:
        """Chinese order: family name first, no space."""
        return f"{self.last_name}{self.first_name}" or self.username

    def scope_codes(self) -> list[str]:
        """Region code prefixes this user may see; an empty list means nothing."""
        if self.role == self.Role.AGENT:
            codes = [village.code for village in self.villages.all()]
            if codes:
                return codes
            # An agent sees villages only (DESIGN §4): their own region counts when it is one;
            # an agent filed under a township and given no village yet sees nothing.
            village_length = Region.CODE_LENGTH[Region.Level.VILLAGE]
            if not (self.region_id and len(self.region_id) >= village_length):
                return []
        return [self.region_id] if self.region_id else []

    @property
    def is_read_only(self) -> bool:
        return self.role == self.Role.AUDITOR

    @property
    def can_manage_residents(self) -> bool:
        """Import lists, work findings, seal and cancel: the county bureau and township staff."""
        return self.is_superuser or self.role in (self.Role.COUNTY, self.Role.TOWNSHIP)

    def can_see_region(self, code: str) -> bool:
        if self.is_superuser:
            return True
        return any(code.startswith(prefix) for prefix in self.scope_codes())


class AuditQuerySet(RegionScopedQuerySet):
    region_field = "region_code"

    def for_object(self, obj: models.Model) -> AuditQuerySet:
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))


class AuditEntry(models.Model):
    """One recorded change: who changed a person's status or recorded money, when, old and new.

    Bulk work writes one row per person in bulk, or one summary row naming the batch.
    """

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    action = models.CharField(_("操作"), max_length=40)
    target_type = models.CharField(_("对象类型"), max_length=60)
    target_id = models.CharField(_("对象编号"), max_length=40)
    region_code = models.CharField(_("区划代码"), max_length=15, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = pgettext_lazy("plural", "操作记录")
        ordering = ["-at", "-id"]
        indexes = [
            # The resident page reads one person's history.
            models.Index(fields=["target_type", "target_id", "at"], name="audit_target_idx"),
            # Region scope: region_code LIKE '530927203%'.
            models.Index(
                fields=["region_code"], opclasses=["varchar_pattern_ops"], name="audit_region_idx"
            ),
        ]

    ACTION_LABELS = {
        "resident.register": _("登记参保人"),
        "resident.status": _("变更参保状态"),
        "payment.record": _("登记缴费"),
        "payment.reverse": _("冲正"),
        "resident.move": _("户籍地变更"),
        "membership.add": _("纳入特殊群体"),
        "membership.remove": _("移出特殊群体"),
        "finding.resolve": _("处理疑点"),
        "regions.import": _("导入行政区划"),
        "demo.seed": _("生成演示数据"),
        "proxy_batch.generate": _("生成代缴批次"),
        "proxy_batch.approve": _("审批代缴批次"),
        "proxy_batch.post": _("代缴批次入账"),
        "cash_receipt.record": _("登记现金代收"),
        "remittance.record": _("登记现金缴销"),
        "cash_limit.breach": _("现金超出双限"),
        "target.set": _("设定参保任务数"),
        "notice.generate": _("生成公示"),
        "cash_receipt.post": _("现金代收入账"),
        "api_key.create": _("创建接口密钥"),
        "api_key.revoke": _("吊销接口密钥"),
        "synced_record.hold": _("税务同步记录挂起"),
        "synced_record.post": _("税务同步记录入账"),
        "statement.import": _("导入对账单"),
        "reconciliation.run": _("月度对账"),
        "discrepancy.resolve": _("处理对账差异"),
        "revisit.draw": _("抽取回访对象"),
        "revisit.record": _("登记回访结果"),
        "bulletin.publish": _("生成进展通报"),
    }

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))


class ImportJobQuerySet(RegionScopedQuerySet):
    region_field = "region__code"


class ImportJob(models.Model):
    """One uploaded or command-line file import: what was asked, how far it got, what it found.

    Every importer of the project (registry, department lists, regions, statements) records its
    run here, so a page can show progress and the rejected rows can be downloaded afterwards.
    """

    class Kind(models.TextChoices):
        REGIONS = "regions", pgettext_lazy("import kind", "行政区划")
        REGISTRY = "registry", _("公安户籍比对")
        DEPARTMENT = "department", _("部门名单比对")
        TARGETS = "targets", _("参保任务数")
        TAX_STATEMENT = "tax", _("税务征收明细")
        BANK_STATEMENT = "bank", _("银行流水")

    class Status(models.TextChoices):
        PENDING = "pending", _("等待处理")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    filename = models.CharField(_("文件名"), max_length=255)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", blank=True)
    sha256 = models.CharField(_("文件摘要"), max_length=64, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    dry_run = models.BooleanField(_("仅试算"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    stage = models.CharField(_("当前步骤"), max_length=60, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("提交人"), null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = pgettext_lazy("plural", "导入任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="import_job_progress_is_a_percentage", condition=Q(progress__lte=100)
            ),
        ]
        indexes = [
            # "The last registry comparison of this county" and the overdue checks.
            models.Index(fields=["kind", "region", "status"], name="import_job_kind_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"


class ImportRejection(models.Model):
    """One rejected row of an import: its row number as the spreadsheet shows it, column, reason."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("导入任务"), on_delete=models.CASCADE, related_name="rejections"
    )
    row = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=40, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    value = models.CharField(_("原值"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("导入错误行")
        verbose_name_plural = pgettext_lazy("plural", "导入错误行")
        ordering = ["job_id", "row", "id"]

    def __str__(self) -> str:
        return gettext("第%(row)s行 〈%(column)s〉: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
        }


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExportJobQuerySet:
        """A download is its requester's: it holds what their region let them see."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(created_by=user)


class ExportJob(models.Model):
    """A list exported as a workbook by a worker, for lists too long to write while the page
    waits (a county's million residents): progress while it runs, then the file to fetch."""

    Status = ImportJob.Status  # the same four steps as an import's

    kind = models.CharField(_("类型"), max_length=30)
    title = models.CharField(_("名称"), max_length=200)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    file = models.FileField(_("文件"), upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("提交人"), on_delete=models.PROTECT, related_name="export_jobs"
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = pgettext_lazy("plural", "导出任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="export_job_progress_is_a_percentage", condition=Q(progress__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return self.title
