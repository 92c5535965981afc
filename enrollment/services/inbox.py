"""Files delivered to the exchange folder (前置机/共享目录) are compared without anyone uploading.

The police and the departments deliver their exports as files; the scheduler looks in
`IMPORT_INBOX/<region code>/registry/` and `IMPORT_INBOX/<region code>/<category>/` for files
named from their date (`2023-03-31 户籍.csv`) and imports each file once: a file already
imported for the same region and kind (same content, by SHA-256) is skipped, so the scheduled
task is safe to run every day and twice.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from pathlib import Path

from django.conf import settings
from django.core.files import File

from enrollment.services.departments import ALL_CATEGORIES
from enrollment.services.jobs import import_job_run
from pension.models import ImportJob, Region

log = logging.getLogger(__name__)

SUFFIXES = {".csv", ".xlsx", ".xls"}
DATE_IN_NAME = re.compile(r"(\d{4})[-_.年]?(\d{1,2})[-_.月]?(\d{1,2})")


def _date_of(path: Path) -> datetime.date | None:
    match = DATE_IN_NAME.search(path.stem)
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inbox_collect(*, inbox: Path | None = None) -> list[ImportJob]:
    """Import every new file in the inbox, oldest date first; returns the jobs it ran."""
    inbox = Path(inbox or settings.IMPORT_INBOX)
    if not inbox.is_dir():
        return []
    pending: list[tuple[datetime.date, Path, Region, str, str]] = []
    regions = {r.code: r for r in Region.objects.filter(level__in=["county", "township"])}
    for region_dir in sorted(p for p in inbox.iterdir() if p.is_dir()):
        region = regions.get(region_dir.name)
        if region is None:
            log.warning("inbox folder %s is not a county or township code", region_dir.name)
            continue
        for kind_dir in sorted(p for p in region_dir.iterdir() if p.is_dir()):
            if kind_dir.name != "registry" and kind_dir.name not in ALL_CATEGORIES:
                log.warning("inbox folder %s is not a known list kind", kind_dir)
                continue
            for path in sorted(kind_dir.iterdir()):
                day = _date_of(path)
                if path.suffix.lower() in SUFFIXES and day is not None:
                    pending.append((day, path, region, kind_dir.name, _sha256(path)))
                elif path.is_file():
                    log.warning("inbox file %s has no date in its name or is not a sheet", path)
    jobs = []
    for day, path, region, kind, digest in sorted(pending, key=lambda item: item[0]):
        job_kind = ImportJob.Kind.REGISTRY if kind == "registry" else ImportJob.Kind.DEPARTMENT
        seen = ImportJob.objects.filter(
            kind=job_kind, region=region, sha256=digest, dry_run=False
        ).exists()
        if seen:
            continue
        params = (
            {"as_of": day.isoformat()}
            if kind == "registry"
            else {"category": kind, "list_date": day.isoformat()}
        )
        with path.open("rb") as handle:
            job = ImportJob.objects.create(
                kind=job_kind,
                region=region,
                filename=path.name[:255],
                file=File(handle, name=path.name),
                sha256=digest,
                params=params,
            )
        jobs.append(import_job_run(job_id=job.pk))
    return jobs
