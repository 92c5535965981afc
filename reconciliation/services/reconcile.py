"""The monthly reconciliation of a county (DESIGN §6 rule 13): the tax bureau's records, the
bank's and the system's payments, matched by voucher and then by ID number, year and amount.

Everything is a handful of set-based statements over temporary tables. The one wide join puts
each tax record beside the payment and the bank line of the month that carry its voucher; the
few records it leaves unmatched (a per cent or two) are looked up in other months through the
voucher indexes and paired one to one by their keys. Only the records in a category leave the
database's hands: they become discrepancies in one upsert keyed by the record, so a second run
of the month updates the same rows, leaves resolved ones alone and clears the ones that no
longer differ. Every run is kept; the latest finished one is the month's current result.

Ledgers of a county C and a month M:
- tax: the month's tax statement lines of C, and the tax bureau's held synced records of C paid
  in M whose voucher no statement line has;
- bank: the month's bank statement lines of C;
- system: personal and back payments of C's residents paid in M (Beijing time), neither a
  reversal nor reversed. Proxy payments are the finance bureau's, reconciled with it.
"""

from __future__ import annotations

import datetime
import re
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import ContributionSchedule, Payment, Tier
from enrollment.models import Resident
from pension.dates import first_of_next_month
from pension.jobs import is_transient, lease
from pension.models import Region, User
from pension.services import audit_record
from pension.staging import (
    adapt,
    execute,
    fetch_all,
    temporary_table_as,
    tune_for_bulk_work,
)
from reconciliation.models import (
    BankLine,
    Discrepancy,
    ReconciliationRun,
    Statement,
    SyncedRecord,
    TaxLine,
    TownshipTotal,
)

Category = Discrepancy.Category
CATEGORIES = [category.value for category in Category]
ZERO = Decimal("0.00")

TAX = TaxLine._meta.db_table
BANK = BankLine._meta.db_table
SYNCED = SyncedRecord._meta.db_table
PAYMENT = Payment._meta.db_table
RESIDENT = Resident._meta.db_table
DISCREPANCY = Discrepancy._meta.db_table
TIER = Tier._meta.db_table
SCHEDULE = ContributionSchedule._meta.db_table
STATEMENT = Statement._meta.db_table
# A county's statement lines of a month (params: the month, the county code + "%"): the lines
# of its statements of that month, by the lines' one index besides their key's.
_OF_MONTH = f"SELECT st.id FROM {STATEMENT} st WHERE st.month = %s AND st.county_id LIKE %s"
_BEFORE_MONTH = f"SELECT st.id FROM {STATEMENT} st WHERE st.month < %s AND st.county_id LIKE %s"

# Payments whose money the tax bureau collected; proxy payments are not reconciled here.
RECONCILED_KINDS = (Payment.Kind.PERSONAL, Payment.Kind.BACK)
# Naming every source lets the (source, voucher) unique index serve a look-up by voucher alone.
ALL_SOURCES = tuple(Payment.Source.values)


RUN_PENDING = ReconciliationRun.Status.PENDING
RUN_RUNNING = ReconciliationRun.Status.RUNNING

# The county-level statement work county_staff_refusal answers for (its `doing`).
RECONCILE = "reconcile"
IMPORT_STATEMENTS = "import_statements"


class ReconciliationRefused(ValueError):
    """A reconciliation that may not run; the message says why in Chinese."""


def county_staff_refusal(*, user: User | None, county: Region, doing: str) -> str:
    """Why `user` may not do county-level statement work in `county`, or "" when they may;
    `doing` is RECONCILE or IMPORT_STATEMENTS.

    The county bureau (and superusers) import statements and reconcile; nobody else does, and
    nobody outside their own county. No user is the system itself (commands, scheduled tasks).
    """
    reconciling = doing == RECONCILE
    if county.level != Region.Level.COUNTY:
        if reconciling:
            return _("%(county)s 不是县（市、区），执行对账以县为单位进行") % {
                "county": county.name
            }
        return _("%(county)s 不是县（市、区），导入对账单以县为单位进行") % {"county": county.name}
    if user is None:
        return ""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _("请先登录")
    if not (user.is_superuser or user.role == User.Role.COUNTY):
        if reconciling:
            return _("只有县人社局（社保中心）的工作人员可以执行对账")
        return _("只有县人社局（社保中心）的工作人员可以导入对账单")
    if not user.can_see_region(county.code):
        return _("%(county)s 不在您的辖区内") % {"county": county.name}
    return ""


def reconcile_may_run(*, user: User | None, county: Region) -> str:
    """The refusal reason for running a reconciliation of `county`, or "" when allowed."""
    return county_staff_refusal(user=user, county=county, doing=RECONCILE)


def reconcile_month(
    *, county: Region, month: datetime.date, actor: User | None = None
) -> ReconciliationRun:
    """Reconcile one month of a county now; returns the finished run, now the month's current
    one (the command, the monthly task, the demo)."""
    run = _run_create(county=county, month=month, actor=actor, status=RUN_RUNNING)
    _abandoned_runs_close(county=county, month=month.replace(day=1), but=run.pk)
    with lease("reconciliation", run.pk):  # a new row: always this worker's
        return reconcile_run_execute(run=run)


def _abandoned_runs_close(*, county: Region, month: datetime.date, but: int) -> None:
    """Runs of the month left running by a worker that died (no one holds their lease): on
    file as failed, saying so, rather than running for ever beside the run that replaces them.
    A month has a handful of runs; each is looked at once."""
    running = ReconciliationRun.objects.filter(
        county=county, month=month, status=RUN_RUNNING
    ).exclude(pk=but)
    for pk in running.values_list("pk", flat=True):
        with lease("reconciliation", pk) as held:
            if held:
                ReconciliationRun.objects.filter(pk=pk, status=RUN_RUNNING).update(
                    status=ReconciliationRun.Status.FAILED,
                    finished_at=timezone.now(),
                    summary={"error": _("处理该次对账的进程意外中止，已由其后的对账取代")},
                )


def reconcile_month_queue(
    *, county: Region, month: datetime.date, actor: User | None = None
) -> ReconciliationRun:
    """Ask the worker to reconcile one month of a county (the page's button): the run is on
    file at once as pending, refused like reconcile_month, and the page follows it."""
    from reconciliation.tasks import run_reconciliation

    with transaction.atomic():
        run = _run_create(county=county, month=month, actor=actor, status=RUN_PENDING)
        transaction.on_commit(lambda: run_reconciliation.delay(run.pk))
    return run


def reconcile_run_queued(*, run_id: int) -> str:
    """The worker's half of reconcile_month_queue: do the run once; returns its status.

    A delivery of a run another worker is doing, or of a finished one, does nothing
    ("skipped"). A run left half-done by a worker that died is done again from the start: its
    work is one transaction, so nothing of it was kept.
    """
    Status = ReconciliationRun.Status
    with lease("reconciliation", run_id) as held:
        claimed = held and ReconciliationRun.objects.filter(
            pk=run_id, status__in=[Status.PENDING, Status.RUNNING]
        ).update(status=Status.RUNNING, started_at=timezone.now())
        if not claimed:
            return "skipped"
        run = ReconciliationRun.objects.select_related("county", "run_by").get(pk=run_id)
        return reconcile_run_execute(run=run).status


def _run_create(
    *, county: Region, month: datetime.date, actor: User | None, status: str
) -> ReconciliationRun:
    refusal = reconcile_may_run(user=actor, county=county)
    if refusal:
        raise ReconciliationRefused(refusal)
    actor = actor if actor is not None and actor.pk else None
    return ReconciliationRun.objects.create(
        county=county, month=month.replace(day=1), run_by=actor, status=status
    )


def reconcile_run_execute(*, run: ReconciliationRun) -> ReconciliationRun:
    """Do a run: its result becomes the month's current one.

    The run row was written first, on its own, so that a run that fails stays on file as
    failed with its error; its results are written in one transaction with the switch of the
    month's current run, so a page never sees half a result.
    """
    county, month, actor = run.county, run.month, run.run_by
    try:
        with transaction.atomic():
            # One run of a county at a time: two would race for the month's current result.
            Region.objects.select_for_update(no_key=True).filter(pk=county.pk).first()
            tune_for_bulk_work()
            if connection.vendor == "postgresql":
                # Every join here is an equality on a million rows: hashing them beats the
                # sort a merge join wants (the wide join of a million records: 3.4 s, not 5).
                execute("SET LOCAL enable_mergejoin = off")
            summary = _reconcile(run=run, county=county, month=month)
            ReconciliationRun.objects.filter(county=county, month=month, is_current=True).update(
                is_current=False
            )
            ReconciliationRun.objects.filter(pk=run.pk).update(
                status=ReconciliationRun.Status.DONE,
                is_current=True,
                finished_at=timezone.now(),
                summary=summary,
            )
            audit_record(
                actor=actor,
                action="reconciliation.run",
                target=run,
                region_code=county.code,
                changes=summary,
                note=_("%(county)s %(month)s 对账")
                % {"county": county.name, "month": f"{month:%Y-%m}"},
            )
    except Exception as exc:
        if is_transient(exc):  # left running, for the task's retry to take over
            raise
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconciliationRun.Status.FAILED,
            finished_at=timezone.now(),
            summary={"error": f"{type(exc).__name__}: {exc}"[:2000]},
        )
        raise
    run.refresh_from_db()
    run.summary = summary  # as written: jsonb reads its keys back in its own order
    return run


# --- the work ---------------------------------------------------------------------------------


def _money_text(expression: str) -> str:
    """SQL spelling an amount with two decimals, as the detail sentences show it."""
    if connection.vendor == "postgresql":
        return f"CAST({expression} AS varchar)"
    return f"CASE WHEN {expression} IS NULL THEN NULL ELSE printf('%%.2f', {expression}) END"


def _township(code: str) -> str:
    """SQL: the township of a region code when it names a village, else NULL."""
    return f"CASE WHEN LENGTH({code}) >= 12 THEN SUBSTR({code}, 1, 9) END"


def _reconcile(*, run: ReconciliationRun, county: Region, month: datetime.date) -> dict[str, Any]:
    code = county.code
    prefix = f"{code}%"
    end = first_of_next_month(month)
    zone = timezone.get_default_timezone()
    starts = datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)
    ends = datetime.datetime.combine(end, datetime.time.min, tzinfo=zone)

    with ExitStack() as stack:

        def table(name: str, sql: str, params: list) -> str:
            # Values as the ORM stores them: on SQLite a datetime compares as its UTC text.
            values = [adapt(value) for value in params]
            return stack.enter_context(temporary_table_as(name, sql, values))

        # The system ledger.
        system = table(
            "rc_sys",
            f"""
            SELECT p.id AS payment_id, p.voucher_no, p.resident_id, r.id_number,
                   r.name AS rname, r.village_id AS village, p.contribution_year AS year,
                   p.amount, p.paid_at, p.duplicate_of_id AS duplicate_of
            FROM {PAYMENT} p JOIN {RESIDENT} r ON r.id = p.resident_id
            WHERE p.paid_at >= %s AND p.paid_at < %s AND p.kind IN (%s, %s)
              AND p.reverses_id IS NULL AND r.village_id LIKE %s
              AND NOT EXISTS (SELECT 1 FROM {PAYMENT} x
                              WHERE x.reverses_id IS NOT NULL AND x.reverses_id = p.id)
            """,
            [starts, ends, *RECONCILED_KINDS, prefix],
        )

        # The tax ledger beside its resident and the month's payment and bank line that carry
        # its voucher. A voucher shared by two payments (two sources) or two bank lines would
        # repeat the record; the counts tell, and only then is it narrowed to one of each.
        tax_ledger = f"""
            SELECT t.id AS tid, t.id AS tax_line_id, CAST(NULL AS bigint) AS synced_record_id,
                   t.voucher_no, t.id_number, t.name, t.contribution_year AS year, t.amount,
                   t.paid_on
            FROM {TAX} t WHERE t.statement_id IN ({_OF_MONTH})
            UNION ALL
            SELECT -s.id, CAST(NULL AS bigint), s.id, s.voucher_no, s.id_number, s.name,
                   s.contribution_year, s.amount, s.paid_on
            FROM {SYNCED} s
            WHERE s.status = %s AND s.county_id = %s AND s.paid_on >= %s AND s.paid_on < %s
              AND NOT EXISTS (SELECT 1 FROM {TAX} x WHERE x.voucher_no = s.voucher_no)"""
        tax_params = [month, prefix, SyncedRecord.Status.HELD, code, month, end]
        wide = f"""
            SELECT t.*, r.id AS resident_id, r.name AS rname, r.village_id AS village,
                   s.payment_id AS vpay, s.amount AS vpay_amount, s.duplicate_of AS vpay_dup,
                   b.id AS vbank, b.amount AS vbank_amount
            FROM ({tax_ledger}) t
            LEFT JOIN {RESIDENT} r ON r.id_number = t.id_number AND r.village_id LIKE %s
            LEFT JOIN {system} s ON s.voucher_no = t.voucher_no
            LEFT JOIN {BANK} b ON b.voucher_no = t.voucher_no AND b.voucher_no <> ''
                 AND b.statement_id IN ({_OF_MONTH})"""
        wide_params = [*tax_params, prefix, month, prefix]
        tax = table("rc_tax", wide, wide_params)
        records = fetch_all(f"SELECT COUNT(*) FROM ({tax_ledger}) t", tax_params)[0][0]
        if fetch_all(f"SELECT COUNT(*) FROM {tax}")[0][0] != records:
            tax = table(
                "rc_tax_once",
                f"""SELECT * FROM (
                        SELECT w.*, ROW_NUMBER() OVER (
                            PARTITION BY w.tid ORDER BY w.vpay, w.vbank) AS once
                        FROM {tax} w) x
                    WHERE x.once = 1""",
                [],
            )

        # Records the month's voucher join left without a payment or a bank line: their
        # counterpart may carry the voucher in another month.
        other_payment = table(
            "rc_tax_pay_elsewhere",
            f"""
            SELECT o.tid, p.id AS payment_id, p.amount, p.duplicate_of_id AS duplicate_of
            FROM (SELECT t.tid, MIN(p.id) AS payment_id
                  FROM {tax} t JOIN {PAYMENT} p
                       ON p.source IN ({", ".join(["%s"] * len(ALL_SOURCES))})
                      AND p.voucher_no = t.voucher_no
                  WHERE t.vpay IS NULL AND p.kind IN (%s, %s) AND p.reverses_id IS NULL
                    AND NOT EXISTS (SELECT 1 FROM {PAYMENT} x
                                    WHERE x.reverses_id IS NOT NULL AND x.reverses_id = p.id)
                  GROUP BY t.tid) o
            JOIN {PAYMENT} p ON p.id = o.payment_id
            """,
            [*ALL_SOURCES, *RECONCILED_KINDS],
        )
        other_bank = table(
            "rc_tax_bank_elsewhere",
            f"""
            SELECT o.tid, b.id AS bank_line_id, b.amount
            FROM (SELECT t.tid, MIN(b.id) AS bank_line_id
                  FROM {tax} t JOIN {BANK} b
                       ON b.voucher_no = t.voucher_no AND b.voucher_no <> ''
                  WHERE t.vbank IS NULL
                  GROUP BY t.tid) o
            JOIN {BANK} b ON b.id = o.bank_line_id
            """,
            [],
        )

        # Payments and bank lines of the month no tax record claims by voucher, in any month.
        loose_system = table(
            "rc_sys_loose",
            f"SELECT s.* FROM {system} s WHERE NOT EXISTS ("
            f" SELECT 1 FROM {tax} t WHERE t.vpay = s.payment_id)",
            [],
        )
        unclaimed_system = table(
            "rc_sys_unclaimed",
            f"""
            SELECT s.*, ROW_NUMBER() OVER (
                       PARTITION BY s.resident_id, s.year, s.amount
                       ORDER BY s.paid_at, s.payment_id) AS rn
            FROM {loose_system} s
            WHERE NOT EXISTS (SELECT 1 FROM {TAX} x WHERE x.voucher_no = s.voucher_no
                                AND x.statement_id NOT IN ({_OF_MONTH}))
              AND NOT EXISTS (SELECT 1 FROM {SYNCED} y
                              WHERE y.voucher_no = s.voucher_no AND y.status = %s)
            """,
            [month, prefix, SyncedRecord.Status.HELD],
        )
        loose_bank = table(
            "rc_bank_loose",
            f"""
            SELECT b.id AS bank_line_id, b.serial_no, b.voucher_no, b.id_number, b.amount,
                   b.traded_on, b.region_code
            FROM {BANK} b
            WHERE b.statement_id IN ({_OF_MONTH})
              AND NOT EXISTS (SELECT 1 FROM {tax} t WHERE t.vbank = b.id)
            """,
            [month, prefix],
        )
        unclaimed_bank = table(
            "rc_bank_unclaimed",
            f"""
            SELECT b.*, ROW_NUMBER() OVER (
                       PARTITION BY b.id_number, b.amount
                       ORDER BY b.traded_on, b.serial_no) AS rn
            FROM {loose_bank} b
            WHERE b.voucher_no = ''
               OR (NOT EXISTS (SELECT 1 FROM {TAX} x WHERE x.voucher_no = b.voucher_no
                                 AND x.statement_id NOT IN ({_OF_MONTH}))
                   AND NOT EXISTS (SELECT 1 FROM {SYNCED} y
                                   WHERE y.voucher_no = b.voucher_no AND y.status = %s))
            """,
            [month, prefix, SyncedRecord.Status.HELD],
        )

        # Then the rest, one to one: tax and system by resident, year and amount; tax and
        # bank by ID number and amount; in date order on both sides.
        keyed_payment = table(
            "rc_tax_pay_keyed",
            f"""
            SELECT a.tid, b.payment_id, b.amount, b.duplicate_of
            FROM (SELECT t.tid, t.resident_id, t.year, t.amount, ROW_NUMBER() OVER (
                             PARTITION BY t.resident_id, t.year, t.amount
                             ORDER BY t.paid_on, t.voucher_no) AS rn
                  FROM {tax} t
                  WHERE t.vpay IS NULL AND t.resident_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {other_payment} o WHERE o.tid = t.tid)) a
            JOIN {unclaimed_system} b
              ON b.resident_id = a.resident_id AND b.year = a.year AND b.amount = a.amount
             AND b.rn = a.rn
            """,
            [],
        )
        keyed_bank = table(
            "rc_tax_bank_keyed",
            f"""
            SELECT a.tid, b.bank_line_id, b.amount
            FROM (SELECT t.tid, t.id_number, t.amount, ROW_NUMBER() OVER (
                             PARTITION BY t.id_number, t.amount
                             ORDER BY t.paid_on, t.voucher_no) AS rn
                  FROM {tax} t
                  WHERE t.vbank IS NULL
                    AND NOT EXISTS (SELECT 1 FROM {other_bank} o WHERE o.tid = t.tid)) a
            JOIN {unclaimed_bank} b
              ON b.id_number = a.id_number AND b.amount = a.amount AND b.rn = a.rn
            """,
            [],
        )

        # Tax records that are not the first of their person and year among the county's
        # lines: later ones in this month, and any one with a line in an earlier month.
        repeated = table(
            "rc_tax_repeated_keys",
            f"""SELECT id_number, year FROM {tax} GROUP BY id_number, year
                HAVING COUNT(*) > 1""",
            [],
        )
        not_first = table(
            "rc_tax_not_first",
            f"""
            SELECT x.tid FROM (
                SELECT t.tid, ROW_NUMBER() OVER (
                           PARTITION BY t.id_number, t.year
                           ORDER BY t.paid_on, t.voucher_no) AS rn
                FROM {tax} t JOIN {repeated} k ON k.id_number = t.id_number AND k.year = t.year
            ) x WHERE x.rn > 1
            UNION
            SELECT t.tid FROM {tax} t
            WHERE EXISTS (SELECT 1 FROM {TAX} e
                          WHERE e.statement_id IN ({_BEFORE_MONTH})
                            AND e.id_number = t.id_number AND e.contribution_year = t.year)
            """,
            [month, prefix],
        )
        tiers = table(
            "rc_tiers",
            f"""SELECT s.year, t.amount FROM {TIER} t JOIN {SCHEDULE} s ON s.id = t.schedule_id
                WHERE s.province_id = %s""",
            [code[:2]],
        )

        cases = table("rc_cases", _cases_sql(tax=tax, system=unclaimed_system,
                      bank=unclaimed_bank, keyed_payment=keyed_payment, keyed_bank=keyed_bank,
                      other_payment=other_payment, other_bank=other_bank, not_first=not_first,
                      tiers=tiers), [code, code, prefix])  # fmt: skip
        # A held synced record keeps the category the sync gave it; it is always a case.
        execute(
            f"""UPDATE {cases} SET category = COALESCE(
                    (SELECT d.category FROM {DISCREPANCY} d
                     WHERE d.record_key = {cases}.record_key),
                    category, %s)
                WHERE synced_record_id IS NOT NULL""",
            [Category.TAX_NOT_POSTED],
        )

        _write_discrepancies(cases=cases, run=run, county=county, month=month)
        cleared = execute(
            f"""UPDATE {DISCREPANCY} SET status = %s
                WHERE month = %s AND region_code LIKE %s AND county_id = %s AND status = %s
                  AND (last_run_id IS NULL OR last_run_id <> %s)""",
            [Discrepancy.Status.CLEARED, month, prefix, code, Discrepancy.Status.OPEN, run.pk],
        )

        # The month's bank lines are those its tax records claimed by voucher, in the payer's
        # township, and the loose ones, in their own ID number's: no second pass over them.
        figures = fetch_all(
            f"""
            SELECT 'tax', {_township("t.village")}, COUNT(*), SUM(t.amount) FROM {tax} t
            GROUP BY {_township("t.village")}
            UNION ALL
            SELECT 'system', {_township("s.village")}, COUNT(*), SUM(s.amount) FROM {system} s
            GROUP BY {_township("s.village")}
            UNION ALL
            SELECT 'bank', {_township("t.village")}, COUNT(*), SUM(t.vbank_amount) FROM {tax} t
            WHERE t.vbank IS NOT NULL
            GROUP BY {_township("t.village")}
            UNION ALL
            SELECT 'bank', {_township("r.village_id")}, COUNT(*), SUM(b.amount)
            FROM {loose_bank} b
            LEFT JOIN {RESIDENT} r ON r.id_number = b.id_number AND r.village_id LIKE %s
            GROUP BY {_township("r.village_id")}
            UNION ALL
            SELECT 'cases_' || c.side, {_township("c.region_code")}, COUNT(*), 0 FROM {cases} c
            GROUP BY c.side, {_township("c.region_code")}
            """,
            [prefix],
        )
        by_category = dict(fetch_all(f"SELECT category, COUNT(*) FROM {cases} GROUP BY category"))

    return _summarise(
        run=run, county=county, month=month, figures=figures, by_category=by_category,
        cleared=cleared,
    )  # fmt: skip


def _cases_sql(
    *,
    tax: str,
    system: str,
    bank: str,
    keyed_payment: str,
    keyed_bank: str,
    other_payment: str,
    other_bank: str,
    not_first: str,
    tiers: str,
) -> str:
    """Every record in a category, one row each, with what a person needs to work the case.

    Parameters: the county code twice (region of a record whose resident is unknown), then its
    prefix (the residents a bank line's ID may name).
    """
    paid = "COALESCE(t.vpay, op.payment_id, kp.payment_id)"
    banked = "COALESCE(t.vbank, ob.bank_line_id, kb.bank_line_id)"
    category = f"""CASE
        WHEN t.resident_id IS NULL OR t.name <> t.rname THEN '{Category.ID_MISMATCH}'
        WHEN NOT EXISTS (SELECT 1 FROM {tiers} x WHERE x.year = t.year AND x.amount = t.amount)
            THEN '{Category.NOT_A_TIER}'
        WHEN COALESCE(t.vpay_dup, op.duplicate_of, kp.duplicate_of) IS NOT NULL
             OR nf.tid IS NOT NULL THEN '{Category.DUPLICATE}'
        WHEN COALESCE(t.vpay_amount, op.amount) <> t.amount
             OR COALESCE(t.vbank_amount, ob.amount) <> t.amount THEN '{Category.AMOUNT_DIFFERS}'
        WHEN {paid} IS NULL THEN '{Category.TAX_NOT_POSTED}'
        WHEN {banked} IS NULL THEN '{Category.TAX_NO_BANK}'
    END"""
    columns = """record_key, side, category, region_code, voucher_no, id_number, name, rname,
                 year, tax_amount, bank_amount, system_amount, tax_line_id, bank_line_id,
                 payment_id, synced_record_id, known, system_duplicate, serial_no"""
    return f"""
        SELECT {columns} FROM (
            SELECT 'tax:' || t.voucher_no AS record_key, 'tax' AS side, {category} AS category,
                   COALESCE(t.village, %s) AS region_code, t.voucher_no, t.id_number, t.name,
                   COALESCE(t.rname, '') AS rname, t.year, t.amount AS tax_amount,
                   COALESCE(t.vbank_amount, ob.amount, kb.amount) AS bank_amount,
                   COALESCE(t.vpay_amount, op.amount, kp.amount) AS system_amount,
                   t.tax_line_id, {banked} AS bank_line_id, {paid} AS payment_id,
                   t.synced_record_id,
                   CASE WHEN t.resident_id IS NULL THEN 0 ELSE 1 END AS known,
                   CASE WHEN COALESCE(t.vpay_dup, op.duplicate_of, kp.duplicate_of) IS NULL
                        THEN 0 ELSE 1 END AS system_duplicate,
                   '' AS serial_no
            FROM {tax} t
            LEFT JOIN {other_payment} op ON op.tid = t.tid
            LEFT JOIN {keyed_payment} kp ON kp.tid = t.tid
            LEFT JOIN {other_bank} ob ON ob.tid = t.tid
            LEFT JOIN {keyed_bank} kb ON kb.tid = t.tid
            LEFT JOIN {not_first} nf ON nf.tid = t.tid
        ) c WHERE c.category IS NOT NULL OR c.synced_record_id IS NOT NULL
        UNION ALL
        SELECT 'payment:' || CAST(s.payment_id AS varchar(20)), 'system',
               '{Category.POSTED_NO_TAX}', COALESCE(s.village, %s), s.voucher_no, s.id_number,
               s.rname, s.rname, s.year, NULL, NULL, s.amount, NULL, NULL, s.payment_id, NULL,
               1, 0, ''
        FROM {system} s
        WHERE NOT EXISTS (SELECT 1 FROM {keyed_payment} k WHERE k.payment_id = s.payment_id)
        UNION ALL
        SELECT 'bank:' || b.serial_no, 'bank', '{Category.BANK_NO_TAX}',
               COALESCE(r.village_id, b.region_code),
               b.voucher_no, b.id_number, COALESCE(r.name, ''), COALESCE(r.name, ''), NULL,
               NULL, b.amount, NULL, NULL, b.bank_line_id, NULL, NULL,
               CASE WHEN r.id IS NULL THEN 0 ELSE 1 END, 0, b.serial_no
        FROM {bank} b
        LEFT JOIN {RESIDENT} r ON r.id_number = b.id_number AND r.village_id LIKE %s
        WHERE NOT EXISTS (SELECT 1 FROM {keyed_bank} k WHERE k.bank_line_id = b.bank_line_id)
        """


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _sql_literal(text: str) -> str:
    """A SQL string literal of `text`, for a statement run with parameters."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def _sql_sentence(message: str, **expressions: str) -> str:
    """SQL concatenating a translated sentence with the SQL expressions of its placeholders
    (`%(name)s`), in the order the translation puts them."""
    parts, position = [], 0
    for match in _PLACEHOLDER.finditer(message):
        parts += [_sql_literal(message[position : match.start()]), expressions[match[1]]]
        position = match.end()
    parts.append(_sql_literal(message[position:]))
    return " || ".join(parts)


def _detail_sql() -> str:
    """SQL: the sentence a case shows, from a row of the cases table `c`, in the language
    active when the run writes it (Chinese in the worker and the commands)."""
    tax, bank, system = (_money_text(f"c.{n}_amount") for n in ("tax", "bank", "system"))
    unknown_id = _sql_sentence(
        _("证件号码 %(id_number)s 不是本县在册参保人（税务登记姓名：%(name)s）"),
        id_number="c.id_number",
        name="c.name",
    )
    other_name = _sql_sentence(
        _("税务登记姓名“%(name)s”与在册姓名“%(registered)s”不符"),
        name="c.name",
        registered="c.rname",
    )
    not_a_tier = _sql_sentence(
        _("实缴金额 %(amount)s 元不是 %(year)s 年度的缴费档次"), amount=tax, year="c.year"
    )
    duplicate_in_system = _sql_sentence(
        _("%(name)s %(year)s 年度重复缴费：系统已记为重复缴费待退费"), name="c.name", year="c.year"
    )
    duplicate_of_earlier = _sql_sentence(
        _("%(name)s %(year)s 年度重复缴费：此前已有该年度的税务征收记录"),
        name="c.name",
        year="c.year",
    )
    no_record = _sql_literal(_("无记录"))
    system_yuan = _sql_sentence(_("%(amount)s 元"), amount=system)
    bank_yuan = _sql_sentence(_("%(amount)s 元"), amount=bank)
    amounts_differ = _sql_sentence(
        _("金额不一致：税务 %(tax)s 元，系统 %(system)s，银行 %(bank)s"),
        tax=tax,
        system=f"COALESCE({system_yuan}, {no_record})",
        bank=f"COALESCE({bank_yuan}, {no_record})",
    )
    tax_not_posted = _sql_sentence(
        _("税务已征收 %(amount)s 元，系统中没有对应的缴费记录"), amount=tax
    )
    tax_no_bank = _sql_sentence(
        _("税务已征收 %(amount)s 元，银行流水中没有对应的到账记录"), amount=tax
    )
    posted_no_tax = _sql_sentence(
        _("系统已入账 %(amount)s 元（凭证号 %(voucher)s），税务征收明细中没有对应记录"),
        amount=system,
        voucher="c.voucher_no",
    )
    bank_no_tax = _sql_sentence(
        _("银行流水 %(serial)s 到账 %(amount)s 元，税务征收明细中没有对应记录"),
        serial="c.serial_no",
        amount=bank,
    )
    return f"""CASE c.category
        WHEN '{Category.ID_MISMATCH}' THEN CASE WHEN c.known = 0
            THEN {unknown_id}
            ELSE {other_name} END
        WHEN '{Category.NOT_A_TIER}' THEN {not_a_tier}
        WHEN '{Category.DUPLICATE}' THEN CASE WHEN c.system_duplicate = 1
            THEN {duplicate_in_system}
            ELSE {duplicate_of_earlier} END
        WHEN '{Category.AMOUNT_DIFFERS}' THEN {amounts_differ}
        WHEN '{Category.TAX_NOT_POSTED}' THEN {tax_not_posted}
        WHEN '{Category.TAX_NO_BANK}' THEN {tax_no_bank}
        WHEN '{Category.POSTED_NO_TAX}' THEN {posted_no_tax}
        WHEN '{Category.BANK_NO_TAX}' THEN {bank_no_tax}
        ELSE '' END"""


def _write_discrepancies(
    *, cases: str, run: ReconciliationRun, county: Region, month: datetime.date
) -> int:
    """One upsert: new cases are inserted, open and cleared ones take this run's view, resolved
    ones are left exactly as the person who resolved them left them."""
    updated = """category, detail, region_code, voucher_no, id_number, name, contribution_year,
                 tax_amount, bank_amount, system_amount, tax_line_id, bank_line_id, payment_id,
                 last_run_id"""
    assignments = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in updated.split(","))
    return execute(
        f"""
        INSERT INTO {DISCREPANCY}
            (record_key, county_id, month, status, first_run_id, found_at, resolution,
             resolution_note, synced_record_id, {updated})
        SELECT c.record_key, %s, %s, %s, %s, %s, '', '', c.synced_record_id,
               c.category, SUBSTR({_detail_sql()}, 1, 200), c.region_code, c.voucher_no,
               c.id_number, c.name, c.year, c.tax_amount, c.bank_amount, c.system_amount,
               c.tax_line_id, c.bank_line_id, c.payment_id, %s
        FROM {cases} c WHERE 1 = 1
        ON CONFLICT (record_key) DO UPDATE SET {assignments},
            synced_record_id = COALESCE(excluded.synced_record_id,
                                        {DISCREPANCY}.synced_record_id),
            status = excluded.status
        WHERE {DISCREPANCY}.status <> %s
        """,
        [county.code, month, Discrepancy.Status.OPEN, run.pk, timezone.now(), run.pk,
         Discrepancy.Status.RESOLVED],
    )  # fmt: skip


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(ZERO)


def _summarise(
    *,
    run: ReconciliationRun,
    county: Region,
    month: datetime.date,
    figures: list[tuple],
    by_category: dict[str, int],
    cleared: int,
) -> dict[str, Any]:
    """Write the township totals and return the run's summary."""
    ledgers = ("tax", "bank", "system")
    totals = {ledger: [0, ZERO] for ledger in ledgers}
    cases = {"cases_tax": 0, "cases_bank": 0, "cases_system": 0}
    townships: dict[str, dict[str, Any]] = {
        code: {"tax": (0, ZERO), "bank": (0, ZERO), "system": (0, ZERO), "tax_cases": 0,
               "cases": 0}
        for code in Region.objects.filter(
            level=Region.Level.TOWNSHIP, code__startswith=county.code
        ).values_list("code", flat=True)
    }  # fmt: skip
    for figure, township, count, total in figures:
        row = townships.get(township) if township else None
        if figure in totals:
            totals[figure][0] += count
            totals[figure][1] += _amount(total)
            if row is not None:  # a ledger may come in parts (the bank's two)
                row[figure] = (row[figure][0] + count, row[figure][1] + _amount(total))
        else:
            cases[figure] += count
            if row is not None:
                row["cases"] += count
                if figure == "cases_tax":
                    row["tax_cases"] += count
    TownshipTotal.objects.bulk_create(
        TownshipTotal(
            run=run,
            township_id=code,
            tax_count=row["tax"][0],
            tax_sum=row["tax"][1],
            bank_count=row["bank"][0],
            bank_sum=row["bank"][1],
            system_count=row["system"][0],
            system_sum=row["system"][1],
            matched=row["tax"][0] - row["tax_cases"],
            discrepancies=row["cases"],
        )
        for code, row in sorted(townships.items())
    )
    return {
        "county": county.code,
        "month": f"{month:%Y-%m}",
        **{ledger: {"count": totals[ledger][0], "sum": f"{totals[ledger][1]:.2f}"}
           for ledger in ledgers},
        "matched": totals["tax"][0] - cases["cases_tax"],
        "categories": {category: by_category.get(category, 0) for category in CATEGORIES},
        "run": run.pk,
        "cleared": cleared,
    }  # fmt: skip


__all__ = [
    "CATEGORIES",
    "ReconciliationRefused",
    "county_staff_refusal",
    "reconcile_may_run",
    "reconcile_month",
    "reconcile_month_queue",
    "reconcile_run_execute",
    "reconcile_run_queued",
]
