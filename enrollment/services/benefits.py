"""应发尽发: residents who have reached the pension and are not yet paid it."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import BENEFIT_AGE, MIN_CONTRIBUTION_YEARS, Finding
from enrollment.services.findings import findings_raise, sql_message
from pension.dates import years_before
from pension.models import Region


def benefits_due_scan(*, region: Region, on: datetime.date | None = None) -> int:
    """Raise a finding for each resident of `region` due a pension on `on` who has none open.

    Run monthly by the scheduler: a resident who turned 60 last month shows up in the township
    worklist without anyone having to look. Running it twice adds nothing.
    """
    on = on or timezone.localdate()
    detail, detail_params = sql_message(
        _("已满60周岁，缴费年限 %(years)s 年，符合待遇领取条件但未领取"),
        years="CAST(r.contribution_years AS varchar(4))",
    )
    return findings_raise(
        kind=Finding.Kind.BENEFIT_DUE,
        source=_("待遇资格检查 %(date)s") % {"date": f"{on:%Y-%m-%d}"},
        select_sql=f"""
            SELECT r.id_number, r.name, r.id AS resident_id, r.village_id AS region_id,
                   {detail} AS detail
            FROM enrollment_resident r
            WHERE r.village_id LIKE %s AND r.birth_date <= %s
              AND (r.contribution_years >= %s OR r.transitional_exemption)
              AND NOT r.other_basic_pension AND r.status IN ('enrolled', 'eligible')""",  # noqa: S608 - values are parameters
        params=[
            *detail_params,
            f"{region.code}%",
            years_before(on, BENEFIT_AGE),
            MIN_CONTRIBUTION_YEARS,
        ],
    )
