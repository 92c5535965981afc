"""Residents and what is known about them: status, exclusions, special-group listings."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from pension.dates import years_before
from pension.models import Region, RegionScopedQuerySet

# The national scheme's ages and years (国发〔2014〕8号), the same in every province.
ENROLMENT_AGE = 16
BENEFIT_AGE = 60
MIN_CONTRIBUTION_YEARS = 15


class ResidentQuerySet(RegionScopedQuerySet):
    region_field = "village__code"

    def benefits_due(self, on: datetime.date) -> ResidentQuerySet:
        """应发尽发: 60 or older, 15 contribution years or exempt, no other basic pension, and
        not yet receiving (DESIGN §6 rule 7)."""
        return self.filter(
            Q(contribution_years__gte=MIN_CONTRIBUTION_YEARS) | Q(transitional_exemption=True),
            birth_date__lte=years_before(on, BENEFIT_AGE),
            other_basic_pension=False,
            status__in=[Resident.Status.ENROLLED, Resident.Status.ELIGIBLE],
        )

    def search(self, text: str) -> ResidentQuerySet:
        """An ID number (whole or its start) or a name fragment, as a clerk types it."""
        from pension import idnumber

        text = (text or "").strip()
        if not text:
            return self
        normalised = idnumber.normalise(text)
        if normalised[:1].isdigit():
            return self.filter(id_number__startswith=normalised)
        return self.filter(name__contains=text)


class Resident(models.Model):
    """One person with local household registration, keyed by their ID number.

    Residents are never deleted: they are sealed, cancelled or excluded with a reason and a date.
    """

    class Status(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", _("未到参保年龄")
        ELIGIBLE = "eligible", _("应参保未参保")
        ENROLLED = "enrolled", _("已参保")
        RECEIVING = "receiving", _("领取待遇")
        SEALED = "sealed", _("已封存")
        DECEASED = "deceased", _("死亡待注销")
        CANCELLED = "cancelled", _("已注销")
        EXCLUDED = "excluded", _("不属参保范围")

    class Exclusion(models.TextChoices):
        STUDENT = "student", _("在校学生")
        CIVIL_SERVANT = "civil_servant", _("机关事业单位人员")
        EMPLOYEE_PENSION = "employee_pension", _("已参加职工养老保险")
        LANDLOST_PENSION = "landlost_pension", _("已参加被征地农民养老保险")

    class SealReason(models.TextChoices):
        MARRIED_OUT = "married_out", _("外嫁未迁户口")
        LOST_CONTACT = "lost_contact", _("失联")
        EMPTY_HOUSEHOLD = "empty_household", _("空挂户")

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    id_number = models.CharField(_("公民身份号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    village = models.ForeignKey(
        Region,
        verbose_name=_("村(社区)"),
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"level": Region.Level.VILLAGE},
        db_index=False,  # resident_village_idx
    )
    group = models.ForeignKey(
        Region,
        verbose_name=_("村民小组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_residents",
        limit_choices_to={"level": Region.Level.GROUP},
        db_index=False,  # resident_group_idx
    )
    household_no = models.CharField(_("户号"), max_length=30, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(_("参保状态"), max_length=15, choices=Status.choices)
    status_reason = models.CharField(_("状态原因"), max_length=200, blank=True)
    status_date = models.DateField(_("状态日期"))
    exclusion = models.CharField(
        _("不属参保范围原因"), max_length=20, choices=Exclusion.choices, blank=True
    )
    contribution_years = models.PositiveSmallIntegerField(
        _("累计缴费年限"), default=0, db_default=0, help_text=_("来自社保经办系统的累计缴费年数。")
    )
    transitional_exemption = models.BooleanField(
        _("过渡期免缴"),
        default=False,
        db_default=False,
        help_text=_("制度实施时已满60周岁等，不受15年缴费年限限制。"),
    )
    other_basic_pension = models.BooleanField(
        _("已领取其他基本养老金"), default=False, db_default=False
    )
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("参保人")
        verbose_name_plural = pgettext_lazy("plural", "参保人")
        ordering = ["village_id", "household_no", "id_number"]
        constraints = [
            models.CheckConstraint(
                name="resident_id_number_format",
                condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"),
            ),
            models.CheckConstraint(
                name="resident_group_inside_village",
                condition=Q(group__isnull=True)
                | Q(StartsWith(models.F("group_id"), models.F("village_id"))),
            ),
            models.CheckConstraint(
                name="resident_excluded_has_reason",
                condition=~Q(status="excluded") | ~Q(exclusion=""),
            ),
        ]
        # Few indexes, on purpose: every registry comparison, proxy batch and payment changes
        # tens of thousands of residents, and each index is one more write per changed row.
        # Status is left unindexed so that a status change is a HOT update (no index writes;
        # the table keeps 10% of each page free for it, see migration 0005).
        indexes = [
            # Region scope (village_id LIKE '530927203%') and one village's residents (=).
            models.Index(
                fields=["village"], opclasses=["varchar_pattern_ops"], name="resident_village_idx"
            ),
            # Notices and lists per villager group.
            models.Index(fields=["group"], name="resident_group_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s（%(masked_id)s）") % {
            "name": self.name,
            "masked_id": self.masked_id,
        }

    @property
    def masked_id(self) -> str:
        from pension.idnumber import mask

        return mask(self.id_number)

    def age_on(self, day: datetime.date) -> int:
        from pension.idnumber import age_on

        return age_on(self.birth_date, day)


class SpecialGroupMembershipQuerySet(RegionScopedQuerySet):
    region_field = "resident__village__code"

    def active_on(self, day: datetime.date) -> SpecialGroupMembershipQuerySet:
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day), valid_from__lte=day)

    def backed_in_year(self, year: int) -> SpecialGroupMembershipQuerySet:
        """Memberships a department list dated in `year` confirms (DESIGN §6 rule 3)."""
        return self.filter(list_date__year=year)


class SpecialGroupMembership(models.Model):
    """One resident's listing in a special group, as received from a department's list.

    A person who drops off a later list keeps this row with valid_to set, so history stays.
    """

    class Category(models.TextChoices):
        TUOPIN = "tuopin", _("脱贫人口")
        FANPIN = "fanpin", _("返贫致贫人口")
        DIBAO = "dibao", _("低保对象")
        TEKUN = "tekun", _("特困人员")
        DISABILITY = "disability", _("重度残疾人")
        FAMILY_PLANNING = "family_planning", _("计生两户")

    class Department(models.TextChoices):
        CIVIL_AFFAIRS = "civil_affairs", _("民政")
        RURAL_REVITALISATION = "rural_revitalisation", _("乡村振兴")
        DISABLED_FEDERATION = "disabled_federation", _("残联")
        HEALTH_COMMISSION = "health_commission", _("卫健")

    DEPARTMENT_OF = {
        Category.TUOPIN: Department.RURAL_REVITALISATION,
        Category.FANPIN: Department.RURAL_REVITALISATION,
        Category.DIBAO: Department.CIVIL_AFFAIRS,
        Category.TEKUN: Department.CIVIL_AFFAIRS,
        Category.DISABILITY: Department.DISABLED_FEDERATION,
        Category.FAMILY_PLANNING: Department.HEALTH_COMMISSION,
    }

    resident = models.ForeignKey(
        Resident, verbose_name=_("参保人"), on_delete=models.PROTECT, related_name="memberships"
    )
    category = models.CharField(_("特殊群体类别"), max_length=20, choices=Category.choices)
    department = models.CharField(_("来源部门"), max_length=25, choices=Department.choices)
    list_date = models.DateField(_("名单日期"))
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("终止日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = SpecialGroupMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("特殊群体身份")
        verbose_name_plural = pgettext_lazy("plural", "特殊群体身份")
        ordering = ["resident_id", "category", "valid_from"]
        constraints = [
            models.CheckConstraint(
                name="membership_valid_to_after_valid_from",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            ),
            models.UniqueConstraint(
                name="membership_one_listing_per_category_and_start",
                fields=["resident", "category", "valid_from"],
            ),
        ]
        indexes = [
            # Proxy qualification: "who is in category X on date D".
            models.Index(fields=["category", "valid_from", "valid_to"], name="membership_cat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.valid_from}–{self.valid_to or ''}"


class FindingQuerySet(RegionScopedQuerySet):
    region_field = "region__code"

    def open(self) -> FindingQuerySet:
        return self.filter(status=Finding.Status.OPEN)


class Finding(models.Model):
    """One row that needs a person's decision (疑点), raised by a comparison or a check.

    At most one open finding exists per kind and ID number, so running a comparison again does
    not raise the same question twice; a resolved finding stays as the record of the decision.
    """

    class Kind(models.TextChoices):
        NOT_ENROLLED = "not_enrolled", _("应参保未参保")
        INTERRUPTED = "interrupted", _("缴费中断")
        AMOUNT_CHANGED = "amount_changed", _("缴费额变化较大")
        ID_NAME_MISMATCH = "id_name_mismatch", _("身份证号码与姓名不符")
        UNVERIFIABLE = "unverifiable", _("无法核实")
        SHARED_CODE = "shared_code", _("两人共用一个参保编号")
        NO_REGISTRATION = "no_registration", _("本地无户籍")
        DECEASED = "deceased", _("死亡待注销")
        MOVED_OUT = "moved_out", _("户籍迁出")
        INVALID_CHECK_DIGIT = "invalid_check_digit", _("身份证校验位错误")
        UNKNOWN_PERSON = "unknown_person", _("名单人员未在册")
        BENEFIT_DUE = "benefit_due", _("达到领取条件未领取待遇")
        REVISIT_DIFFERS = "revisit_differs", _("回访情况不符")
        TRANSFER_IN = "transfer_in", _("户籍迁入，参保在外县")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        RESOLVED = "resolved", _("已处理")
        SEALED = "sealed", _("已封存")

    kind = models.CharField(_("疑点类型"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    id_number = models.CharField(_("公民身份号码"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("参保人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属区划"),
        on_delete=models.PROTECT,
        related_name="findings",
        help_text=_("参保人所在村；名单人员未在册时为县。"),
        db_index=False,  # finding_worklist_idx
    )
    detail = models.CharField(_("情况说明"), max_length=300, blank=True)
    source = models.CharField(_("来源"), max_length=60, blank=True)
    assignee = models.ForeignKey(
        "pension.User",
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_findings",
    )
    resolution_note = models.CharField(_("处理意见"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(
        "pension.User",
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolved_findings",
        db_index=False,  # looked up only through the finding itself
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("疑点")
        verbose_name_plural = pgettext_lazy("plural", "疑点")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                name="finding_one_open_per_kind_and_id_number",
                fields=["kind", "id_number"],
                condition=Q(status="open"),
            ),
            models.CheckConstraint(
                name="finding_resolved_has_resolver_and_time",
                condition=Q(status="open")
                | (Q(resolved_by__isnull=False) & Q(resolved_at__isnull=False)),
            ),
        ]
        indexes = [
            # The township worklist: open findings of a region (a prefix of its code) by kind.
            models.Index(
                fields=["region", "status", "kind"],
                opclasses=["varchar_pattern_ops", "text_ops", "text_ops"],
                name="finding_worklist_idx",
            ),
            # The worklist's order, newest first: a page is read off the index instead of
            # sorting every open finding of the region.
            models.Index(fields=["created_at", "id"], name="finding_created_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s：%(name)s") % {"kind": self.get_kind_display(), "name": self.name}
