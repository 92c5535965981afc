"""What every import of the project shares: a rejected row and the rule that refuses a file.

DESIGN §4: rows that fail are rejected one by one with their row number, column and reason;
if more than half fail, or the user asked for all-or-nothing, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Browser uploads are capped lower than files read by the commands and the exchange folder: a
# county's full registry export (a million rows, about 75 MB as CSV) comes through the latter.
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
FILE_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Rejection:
    """One rejected row: its number as the spreadsheet shows it, the column and the reason."""

    row: int
    column: str
    reason: str
    value: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return _("第%(row)s行 〈%(column)s〉: %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
        }


@dataclass
class UpsertResult:
    """What an import that adds new rows and updates existing ones found and did (regions,
    targets); `as_dict` is the `--json` shape of its command."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    applied: bool = False
    refused_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def refusal_reason(*, rows: int, rejected: int, strict: bool = False) -> str:
    """Why nothing may be written, or "" when the valid rows may be applied."""
    if rows == 0:
        return _("文件中没有数据行，未写入任何数据")
    if strict and rejected:
        return ngettext(
            "已选择“全部正确才导入”，共有 %(rejected)s 行错误，未写入任何数据",
            "已选择“全部正确才导入”，共有 %(rejected)s 行错误，未写入任何数据",
            rejected,
        ) % {"rejected": rejected}
    if rejected * 2 > rows:
        return ngettext(
            "错误行超过一半（%(rejected)s/%(rows)s 行），可能选错了文件或列，未写入任何数据",
            "错误行超过一半（%(rejected)s/%(rows)s 行），可能选错了文件或列，未写入任何数据",
            rows,
        ) % {"rejected": rejected, "rows": rows}
    return ""


# An import runs in one transaction, so progress written to its job row would only appear when
# it is over. Progress therefore also goes to the cache, which the job page reads while the
# job runs (shared by the web and worker processes through Redis in production).
PROGRESS_SECONDS = 6 * 3600


def _progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:progress"


def progress_note(job_id: int, *, progress: int, stage: str) -> None:
    cache.set(_progress_key(job_id), (progress, stage), PROGRESS_SECONDS)


def progress_of(job_id: int) -> tuple[int, str] | None:
    """(progress, stage) last noted for a running job, or None when nothing is noted."""
    return cache.get(_progress_key(job_id))
