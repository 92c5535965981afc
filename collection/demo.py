"""The demo county: villages, groups, residents, special groups, payments and one user a role.

Everything is drawn from one `random.Random(seed)`, so the same seed gives the same data. The
plan is built in memory first (plain tuples) and then written with bulk statements.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from collection.models import ContributionSchedule, Payment
from enrollment.models import Resident, SpecialGroupMembership
from pension import idnumber, staging
from pension.bulk import bulk_insert
from pension.models import Region, User, county_of
from pension.services import audit_record

DEMO_PASSWORD = "pension2023"

# Villages the two notices' counties really have; the rest are generated.
KNOWN_VILLAGES = {
    "530927203": ["糯良", "贺岭", "南撒", "怕秋", "翁不老", "班考", "怕迫", "坝尾"],
    "530927204": ["民良", "永安", "丁来", "公弄", "英格", "班列", "勐来", "公撒", "曼来"],
    "530927206": ["班洪", "芒库", "公坎", "富公", "班莫", "南板"],
    "622901100": ["堡子", "瓦窑", "祁家"],
    "622901102": [
        "高邓家", "单子庄", "尕杨家", "南川", "四家咀", "张王家",
        "王闵家", "杨家", "妥家", "罗家湾", "马家庄",
    ],
}  # fmt: skip

# (township code prefix, username, role, last name, first name); county users sit on the county.
DEMO_USERS = [
    ("530927", "cangyuan_county", User.Role.COUNTY, "李", "县社保中心"),
    ("530927203", "nuoliang_staff", User.Role.TOWNSHIP, "赵", "糯良乡社保所"),
    ("530927204", "menglai_staff", User.Role.TOWNSHIP, "田", "勐来乡社保所"),
    ("530927203200", "nuoliang_agent", User.Role.AGENT, "岩", "糯良村协办员"),
    ("530927", "cangyuan_tax", User.Role.TAX, "陈", "县税务局"),
    ("530927", "cangyuan_audit", User.Role.AUDITOR, "杨", "县纪委监委"),
    ("622901", "linxia_county", User.Role.COUNTY, "马", "市社保中心"),
]

NEIGHBOUR_AREAS = {"622901": ["622921", "622923"], "530927": ["530926", "530925"]}

SURNAMES = {
    "622901": "马王张李杨何赵陈刘韩罗妥祁高",
    "530927": "李赵肖田陈杨岩叶尼艾王罗鲍魏",
}
GIVEN = "德明华国英秀兰玉芳建军文梅成福海燕伟强丽娟志平春花光荣永生福贵玲晓军红"
WA_GIVEN = ["块", "嘎", "门", "艾", "倒", "那", "塞", "拉", "茸", "布", "惹", "改"]

SYLLABLES_A = "芒班南帕永岩嘎公翁怕贺坝曼刀"
SYLLABLES_B = "良东回坎莫撒来弄格列卡腊董帅等"
GANSU_VILLAGE = "王马张李杨何赵陈刘韩罗妥祁高"
GANSU_SUFFIX = ["家", "家庄", "家湾", "家台", "家坪"]
COMMUNITY_NAMES = "东西南北和平团结新华光明红旗建设幸福民主人民胜利"
CHINESE_NUMBERS = "一二三四五六七八九十"

CHANNEL_WEIGHTS = [
    (Payment.Channel.WECHAT, 35),
    (Payment.Channel.ALIPAY, 14),
    (Payment.Channel.BANK_APP, 12),
    (Payment.Channel.BANK_COUNTER, 8),
    (Payment.Channel.POS, 8),
    (Payment.Channel.TAX_HALL, 7),
    (Payment.Channel.TOWNSHIP_OFFICE, 8),
    (Payment.Channel.AGENT_CASH, 8),
]
LOW_TIER_BIAS = [40, 18, 12, 8, 6, 4, 3, 3, 2, 1, 1, 1, 1, 1]

CATEGORY_RATES = [
    (SpecialGroupMembership.Category.DIBAO, 0.06),
    (SpecialGroupMembership.Category.TUOPIN, 0.05),
    (SpecialGroupMembership.Category.FANPIN, 0.01),
    (SpecialGroupMembership.Category.TEKUN, 0.01),
    (SpecialGroupMembership.Category.DISABILITY, 0.02),
    (SpecialGroupMembership.Category.FAMILY_PLANNING, 0.02),
]
LIST_DATES = {
    SpecialGroupMembership.Category.DIBAO: (3, 15),
    SpecialGroupMembership.Category.TEKUN: (3, 15),
    SpecialGroupMembership.Category.TUOPIN: (3, 10),
    SpecialGroupMembership.Category.FANPIN: (3, 10),
    SpecialGroupMembership.Category.DISABILITY: (3, 20),
    SpecialGroupMembership.Category.FAMILY_PLANNING: (3, 25),
}


@dataclass
class DemoPlan:
    regions: list[tuple[str, str, str, str]] = field(default_factory=list)  # code,name,level,parent
    residents: list[dict] = field(default_factory=list)
    memberships: list[tuple[int, str, datetime.date]] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)

    def digest(self) -> str:
        """A fingerprint of the plan, to show that a seed reproduces its data."""
        text = repr((self.regions, self.residents, self.memberships, self.payments))
        return hashlib.sha256(text.encode()).hexdigest()


def _chinese_number(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    if n < 20:
        return "十" + CHINESE_NUMBERS[n - 11]
    tens, ones = divmod(n, 10)
    return CHINESE_NUMBERS[tens - 1] + "十" + (CHINESE_NUMBERS[ones - 1] if ones else "")


def demo_regions() -> list[tuple[str, str, str, str]]:
    """Villages and groups below every shipped township; the same whatever the seed."""
    rows: list[tuple[str, str, str, str]] = []
    townships = Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code")
    for township in townships:
        rng = random.Random(int(township.code))
        gansu = township.code.startswith("62")
        urban = township.name.endswith("街道") or township.name.endswith("农场")
        names: list[tuple[str, bool]] = []  # (name, is_community)
        if urban:
            pool = rng.sample(range(len(COMMUNITY_NAMES) // 2), rng.randint(4, 6))
            names = [(COMMUNITY_NAMES[2 * i : 2 * i + 2] + "社区", True) for i in pool]
        else:
            known = KNOWN_VILLAGES.get(township.code, [])
            names = [(name + "村", False) for name in known]
            target = max(len(known), rng.randint(6, 10))
            taken = {name for name, _ in names}
            while len(names) < target:
                if gansu:
                    name = rng.choice(GANSU_VILLAGE) + rng.choice(GANSU_SUFFIX) + "村"
                else:
                    name = rng.choice(SYLLABLES_A) + rng.choice(SYLLABLES_B) + "村"
                if name not in taken:
                    taken.add(name)
                    names.append((name, False))
        next_committee, next_community = 200, 1
        for name, is_community in names:
            if is_community:
                code = f"{township.code}{next_community:03d}"
                next_community += 1
            else:
                code = f"{township.code}{next_committee:03d}"
                next_committee += 1
            rows.append((code, name, Region.Level.VILLAGE, township.code))
            for g in range(1, rng.randint(4, 9) + 1):
                label = (
                    f"第{_chinese_number(g)}居民小组" if is_community else f"{_chinese_number(g)}组"
                )
                rows.append((f"{code}{g:03d}", label, Region.Level.GROUP, code))
    return rows


def _weighted(rng: random.Random, pairs: list[tuple[object, int]]) -> object:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _birth_date(rng: random.Random, reference: datetime.date) -> datetime.date:
    band = rng.random()
    if band < 0.15:
        age = rng.randint(0, 15)
    elif band < 0.80:
        age = rng.randint(16, 59)
    else:
        age = rng.randint(60, 95)
    start = datetime.date(reference.year - age - 1, reference.month, 1) + datetime.timedelta(days=1)
    return start + datetime.timedelta(days=rng.randint(0, 364))


def _id_number(rng: random.Random, county: str, born: datetime.date, male: bool, used: set) -> str:
    while True:
        area = county if rng.random() < 0.9 else rng.choice(NEIGHBOUR_AREAS[county])
        order = rng.randint(0, 99) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
        first17 = f"{area}{born:%Y%m%d}{order:03d}"
        number = first17 + idnumber.check_digit(first17)
        if number not in used:
            used.add(number)
            return number


def _name(rng: random.Random, county: str, surname: str) -> str:
    if county == "530927" and surname in "岩叶尼艾" and rng.random() < 0.6:
        return surname + rng.choice(WA_GIVEN)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


def build_plan(
    *,
    residents: int,
    seed: int,
    year: int,
    regions: list[tuple[str, str, str, str]],
    schedules: dict[str, ContributionSchedule],
) -> DemoPlan:
    """Residents in households, their special groups and this year's payments, in memory."""
    rng = random.Random(seed)
    plan = DemoPlan(regions=regions)
    reference = datetime.date(year, 7, 1)
    villages = [row for row in regions if row[2] == Region.Level.VILLAGE]
    groups_of: dict[str, list[str]] = {}
    for code, _, level, parent in regions:
        if level == Region.Level.GROUP:
            groups_of.setdefault(parent, []).append(code)
    # Rural villages are larger than urban communities.
    weights = [1 if name.endswith("社区") else 3 for _code, name, _l, _p in villages]
    used: set[str] = set()
    household_seq: dict[str, int] = {}
    while len(plan.residents) < residents:
        village_code = rng.choices([v[0] for v in villages], weights=weights)[0]
        county = village_code[:6]
        group = rng.choice(groups_of[village_code])
        household_seq[village_code] = household_seq.get(village_code, 0) + 1
        household = f"{village_code[6:]}{household_seq[village_code]:04d}"
        surname = rng.choice(SURNAMES[county])
        for _member in range(min(rng.randint(1, 6), residents - len(plan.residents))):
            male = rng.random() < 0.51
            born = _birth_date(rng, reference)
            plan.residents.append(
                {
                    "id_number": _id_number(rng, county, born, male, used),
                    "name": _name(
                        rng, county, surname if rng.random() < 0.8 else rng.choice(SURNAMES[county])
                    ),
                    "sex": "M" if male else "F",
                    "birth_date": born,
                    "village": village_code,
                    "group": group,
                    "household_no": household,
                    "phone": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"
                    if rng.random() < 0.7
                    else "",
                }
            )
    _assign_statuses(rng, plan, reference)
    _assign_groups_and_payments(rng, plan, year, schedules)
    return plan


def _assign_statuses(rng: random.Random, plan: DemoPlan, reference: datetime.date) -> None:
    S, X = Resident.Status, Resident.Exclusion
    for row in plan.residents:
        age = idnumber.age_on(row["birth_date"], reference)
        roll = rng.random()
        status, reason, exclusion = S.ENROLLED, "", ""
        if age < 16:
            status = S.NOT_ELIGIBLE
        elif age <= 22 and roll < 0.4:
            status, exclusion = S.EXCLUDED, X.STUDENT
        elif roll < 0.03:
            status, exclusion = S.EXCLUDED, X.CIVIL_SERVANT
        elif roll < 0.09:
            status, exclusion = S.EXCLUDED, X.EMPLOYEE_PENSION
        elif roll < 0.10 and row["village"].startswith("622901"):
            status, exclusion = S.EXCLUDED, X.LANDLOST_PENSION
        elif roll < 0.105:
            status, reason = S.DECEASED, "公安户籍比对：已死亡"
        elif roll < 0.108:
            status, reason = S.CANCELLED, "死亡注销"
        elif roll < 0.125:
            status = S.SEALED
            reason = rng.choice(["外嫁未迁户口", "失联", "空挂户"])
        elif age >= 60:
            status = S.RECEIVING if roll < 0.9 else S.ENROLLED
        elif roll < 0.20:
            status = S.ELIGIBLE
        years, exempt = 0, False
        if status in (S.ENROLLED, S.RECEIVING, S.SEALED, S.DECEASED):
            # The scheme began in 2009; those already 60 then were exempt from the 15 years.
            possible = max(0, min(age - 16, reference.year - 2009))
            exempt = age >= 60 and reference.year - age + 60 <= 2009
            years = 15 if status == S.RECEIVING and not exempt else rng.randint(0, possible)
            if status == S.ENROLLED and age >= 60 and rng.random() < 0.5:
                years = max(years, 15)  # reached the pension but not yet paid it: 应发尽发
        row.update(
            status=status, status_reason=reason, exclusion=exclusion,
            contribution_years=years, transitional_exemption=exempt,
        )  # fmt: skip


def _assign_groups_and_payments(
    rng: random.Random, plan: DemoPlan, year: int, schedules: dict[str, ContributionSchedule]
) -> None:
    S = Resident.Status
    voucher = 0
    for index, row in enumerate(plan.residents):
        if row["status"] in (S.NOT_ELIGIBLE, S.CANCELLED):
            continue
        schedule = schedules[row["village"][:2]]
        categories = [c for c, rate in CATEGORY_RATES if rng.random() < rate]
        for category in categories:
            month, day = LIST_DATES[category]
            plan.memberships.append((index, category, datetime.date(year, month, day)))
        if row["status"] not in (S.ENROLLED, S.ELIGIBLE):
            continue
        window_end = min(schedule.window_end, datetime.date(year, 8, 31))
        span = (window_end - schedule.window_start).days
        qualifying = any(schedule.qualifies(c) for c in categories)
        if qualifying and rng.random() < 0.85:
            voucher += 1
            due = schedule.proxy_due or datetime.date(year, 6, 30)
            paid_on = schedule.window_start + datetime.timedelta(
                days=rng.randint(0, max((due - schedule.window_start).days, 0))
            )
            plan.payments.append(
                _payment(index, year, schedule.proxy_amount, Decimal("0.00"), Payment.Kind.PROXY,
                         Payment.Channel.GOVERNMENT, Payment.Source.PROXY_BATCH,
                         f"DJ{row['village'][:6]}{year}{voucher:08d}", paid_on, rng)
            )  # fmt: skip
            row["status"] = S.ENROLLED
        working_age = idnumber.age_on(row["birth_date"], window_end) < 60
        if row["status"] == S.ENROLLED and working_age and rng.random() < 0.72:
            tiers = [t for t in schedule.tiers.all() if not t.government_only]
            tier = rng.choices(tiers, weights=LOW_TIER_BIAS[: len(tiers)])[0]
            channel = _weighted(rng, CHANNEL_WEIGHTS)
            source = (
                Payment.Source.COUNTER
                if channel == Payment.Channel.TOWNSHIP_OFFICE
                else Payment.Source.TAX_SYNC
            )
            voucher += 1
            paid_on = schedule.window_start + datetime.timedelta(days=rng.randint(0, span))
            plan.payments.append(
                _payment(index, year, tier.amount, tier.subsidy, Payment.Kind.PERSONAL,
                         channel, source, f"3{row['village'][:6]}{year}{voucher:09d}",
                         paid_on, rng)
            )  # fmt: skip


def _payment(index, year, amount, subsidy, kind, channel, source, voucher, paid_on, rng) -> dict:
    paid_at = datetime.datetime.combine(
        paid_on, datetime.time(rng.randint(8, 19), rng.randint(0, 59), rng.randint(0, 59))
    )
    return {
        "resident": index,
        "contribution_year": year,
        "amount": amount,
        "subsidy": subsidy,
        "kind": kind,
        "channel": channel,
        "source": source,
        "voucher_no": voucher,
        "paid_at": timezone.make_aware(paid_at),
    }


@dataclass(frozen=True)
class SeedResult:
    created: bool
    regions: int
    residents: int
    memberships: int
    payments: int
    users: list[tuple[str, str, str]]
    digest: str


def demo_seed(
    *, residents: int = 20_000, seed: int = 2023, year: int = 2023, fingerprint: bool = False
) -> SeedResult:
    """Seed the demo county once; a database that already has residents is left alone."""
    users = _demo_user_lines()
    if Resident.objects.exists():
        return SeedResult(False, 0, 0, 0, 0, users, "")
    schedules = {
        s.province_id: s
        for s in ContributionSchedule.objects.filter(year=year).prefetch_related("tiers")
    }
    if set(schedules) != {"53", "62"}:
        raise ValueError(f"{year} 年度缺少甘肃或云南的缴费方案，无法生成演示数据")
    regions = demo_regions()
    plan = build_plan(
        residents=residents, seed=seed, year=year, regions=regions, schedules=schedules
    )
    with transaction.atomic():
        _write_regions(plan)
        resident_ids = _write_residents(plan, year)
        _write_memberships(plan, resident_ids)
        _write_payments(plan, resident_ids)
        staging.analyze(Region, Resident, SpecialGroupMembership, Payment)
        _write_progress(year, counties={row[0][:6] for row in plan.regions})
        _write_bulletins(year, counties={row[0][:6] for row in plan.regions})
        _write_users()
        county = Region.objects.get(code="530927")
        audit_record(
            actor=None,
            action="demo.seed",
            target=county,
            region_code="",
            changes={"residents": len(plan.residents), "payments": len(plan.payments)},
            note=f"seed={seed} year={year}",
        )
    return SeedResult(
        True,
        len(plan.regions),
        len(plan.residents),
        len(plan.memberships),
        len(plan.payments),
        users,
        plan.digest() if fingerprint else "",
    )


BATCH = 5000


def _write_progress(year: int, counties: set[str]) -> None:
    """Month-end progress rows of every seeded county, as the nightly task would have left
    them, so that the demo's progress pages and their charts have a year to show."""
    from collection.services.progress import progress_rebuild

    month_ends = [
        datetime.date(year, month % 12 + 1, 1) - datetime.timedelta(days=1)
        if month < 12
        else datetime.date(year, 12, 31)
        for month in range(1, 13)
    ]
    for county in Region.objects.filter(level=Region.Level.COUNTY, code__in=counties):
        for day in month_ends:
            progress_rebuild(county=county, year=year, day=day)


def _write_bulletins(year: int, counties: set[str]) -> None:
    """The mid-year bulletin of every seeded county, as a Monday's task would have kept it."""
    from collection.services.bulletins import bulletin_publish

    for county in Region.objects.filter(level=Region.Level.COUNTY, code__in=counties):
        bulletin_publish(county=county, day=datetime.date(year, 6, 30), actor=None)


def _chunks(rows: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _write_regions(plan: DemoPlan) -> None:
    Region.objects.bulk_create(
        [Region(code=c, name=n, level=lvl, parent_id=p) for c, n, lvl, p in plan.regions],
        batch_size=BATCH,
        ignore_conflicts=True,
    )


RESIDENT_FIELDS = [
    "id_number", "name", "sex", "birth_date", "village_id", "group_id", "household_no",
    "phone", "status", "status_reason", "status_date", "exclusion", "contribution_years",
    "transitional_exemption",
]  # fmt: skip


def _write_residents(plan: DemoPlan, year: int) -> list[int]:
    status_date = datetime.date(year, 1, 1)
    bulk_insert(
        Resident,
        RESIDENT_FIELDS,
        (
            (r["id_number"], r["name"], r["sex"], r["birth_date"], r["village"], r["group"],
             r["household_no"], r["phone"], r["status"], r["status_reason"], status_date,
             r["exclusion"], r["contribution_years"], r["transitional_exemption"])
            for r in plan.residents
        ),
    )  # fmt: skip
    # One query maps the plan's rows to the ids the database gave them.
    by_number = dict(Resident.objects.values_list("id_number", "id"))
    return [by_number[row["id_number"]] for row in plan.residents]


def _write_memberships(plan: DemoPlan, resident_ids: list[int]) -> None:
    department = SpecialGroupMembership.DEPARTMENT_OF
    bulk_insert(
        SpecialGroupMembership,
        ["resident_id", "category", "department", "list_date", "valid_from"],
        (
            (resident_ids[index], category, department[category], list_date, list_date)
            for index, category, list_date in plan.memberships
        ),
    )


PAYMENT_FIELDS = [
    "resident_id", "contribution_year", "amount", "subsidy", "kind", "channel", "source",
    "voucher_no", "paid_at",
]  # fmt: skip


def _write_payments(plan: DemoPlan, resident_ids: list[int]) -> None:
    bulk_insert(
        Payment,
        ["county_code", *PAYMENT_FIELDS],
        (
            (
                county_of(plan.residents[p["resident"]]["village"]),
                resident_ids[p["resident"]],
                *(p[name] for name in PAYMENT_FIELDS[1:]),
            )
            for p in plan.payments
        ),
    )


def _write_users() -> None:
    # Hashing is slow on purpose; the demo accounts share one password, so hash it once.
    password = make_password(DEMO_PASSWORD)
    for region_code, username, role, last_name, first_name in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "region_id": region_code if role != User.Role.AGENT else region_code[:9],
                "last_name": last_name,
                "first_name": first_name,
                "is_staff": role == User.Role.COUNTY,
            },
        )
        user.password = password
        user.save(update_fields=["password"])
        if role == User.Role.AGENT:
            user.villages.set([region_code])
        if role == User.Role.COUNTY:
            user.groups.add(_county_configuration_group())
    admin, _created = User.objects.get_or_create(
        username="admin",
        defaults={"is_staff": True, "is_superuser": True, "last_name": "系统管理员"},
    )
    admin.password = password
    admin.save(update_fields=["password"])


def _county_configuration_group() -> Group:
    """What the county bureau edits in the admin: schedules and regions; people and money read."""
    group, _ = Group.objects.get_or_create(name="县社保中心配置")
    wanted = [
        ("collection", "contributionschedule", ("view", "change")),
        ("collection", "tier", ("view", "add", "change", "delete")),
        ("collection", "milestone", ("view", "add", "change", "delete")),
        ("collection", "payment", ("view",)),
        ("pension", "region", ("view", "add", "change")),
        ("enrollment", "resident", ("view",)),
    ]
    codenames = [f"{action}_{model}" for _app, model, actions in wanted for action in actions]
    group.permissions.set(Permission.objects.filter(codename__in=codenames))
    return group


def _demo_user_lines() -> list[tuple[str, str, str]]:
    lines = [("admin", DEMO_PASSWORD, "系统管理员（全部辖区，含后台配置）")]
    for region_code, username, role, _last, first_name in DEMO_USERS:
        lines.append(
            (username, DEMO_PASSWORD, f"{User.Role(role).label}：{first_name}（{region_code}）")
        )
    return lines
