"""应发尽发: residents who have reached the pension and are not yet paid it."""

from __future__ import annotations

import datetime

from django.utils import timezone

from enrollment.models import BENEFIT_AGE, MIN_CONTRIBUTION_YEARS, Finding
from pension.dates import years_before
from pension.models import Region
from pension.staging import execute


def benefits_due_scan(*, region: Region, on: datetime.date | None = None) -> int:
    """Raise a finding for each resident of `region` due a pension on `on` who has none open.

    Run monthly by the scheduler: a resident who turned 60 last month shows up in the township
    worklist without anyone having to look. Running it twice adds nothing.
    """
    on = on or timezone.localdate()
    return execute(
        """
        INSERT INTO enrollment_finding
            (kind, status, id_number, name, resident_id, region_id, detail, source,
             resolution_note, created_at)
        SELECT %s, 'open', r.id_number, r.name, r.id, r.village_id,
               '已满60周岁，缴费年限 ' || CAST(r.contribution_years AS varchar(4))
                   || ' 年，符合待遇领取条件但未领取', %s, '', %s
        FROM enrollment_resident r
        WHERE r.village_id LIKE %s AND r.birth_date <= %s
          AND (r.contribution_years >= %s OR r.transitional_exemption)
          AND NOT r.other_basic_pension AND r.status IN ('enrolled', 'eligible')
          AND NOT EXISTS (
              SELECT 1 FROM enrollment_finding f
              WHERE f.kind = %s AND f.id_number = r.id_number AND f.status = 'open')
        """,
        [
            Finding.Kind.BENEFIT_DUE,
            f"待遇资格检查 {on:%Y-%m-%d}",
            timezone.now(),
            f"{region.code}%",
            years_before(on, BENEFIT_AGE),
            MIN_CONTRIBUTION_YEARS,
            Finding.Kind.BENEFIT_DUE,
        ],
    )
