"""What the importers' generated-file tests share: their hypothesis settings, the cell that knows
what it must read as, the writer of a generated sheet in every format an office sends, the ways
a file arrives broken, and the checks every refusal must pass (in Chinese, nothing written).

A module describes its own file (its columns, its rows, what they mean); a sheet is anything
with `grid(workbook) -> lines`, written here as xlsx, CSV (UTF-8, with a BOM, GB18030) or a
UTF-16 tab-separated text.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import openpyxl
from django.db import transaction
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st

from pension import idnumber

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples on every run and in CI
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORMATS = ("xlsx", "csv", "csv_bom", "csv_gb18030", "tsv_utf16")
HAN = re.compile(r"[\u4e00-\u9fff]")
FULL_WIDTH_DIGITS = {0x30 + d: 0xFF10 + d for d in range(10)}


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD = _Bad()  # what a cell that must be rejected "reads as"
SAME = object()


def id_for(birth: datetime.date, order: int, area: str = "530927") -> str:
    first17 = f"{area}{birth:%Y%m%d}{order:03d}"
    return first17 + idnumber.check_digit(first17)


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone afterwards whatever happened inside."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_chinese(message: object) -> None:
    assert isinstance(message, str) and HAN.search(message), repr(message)
    assert "Traceback" not in message and "Exception" not in message, message


@dataclass(frozen=True)
class Cell:
    """One cell as a CSV export spells it and as a workbook holds it, with what it must read as.

    ``typed`` is what a workbook holds instead of the text (a number, a date); a text beginning
    with "=" becomes a formula in a workbook, which a reader sees as empty, so it then reads as
    ``blank``, what the column makes of an empty cell.
    """

    text: str
    reads: object
    blank: object = None
    typed: object = SAME
    typed_reads: object = SAME

    def workbook_value(self) -> object:
        return self.typed if self.typed is not SAME else (self.text or None)

    def read_in(self, workbook: bool) -> object:
        if not workbook:
            return self.reads
        if self.typed is not SAME:
            return self.reads if self.typed_reads is SAME else self.typed_reads
        return self.blank if is_formula(self.text) else self.reads

    def is_blank_in(self, workbook: bool) -> bool:
        value = self.workbook_value() if workbook else self.text
        if value is None:
            return True
        return isinstance(value, str) and ((workbook and is_formula(value)) or not value.strip())


def is_formula(text: str) -> bool:
    return len(text) > 1 and text.startswith("=")


class Sheet(Protocol):
    def grid(self, workbook: bool) -> list[list[object]]: ...


def write(sheet: Sheet, fmt: str) -> bytes:
    """The file's bytes; its lines are noted, so that a failing example shows the file."""
    note(f"{fmt}: " + "\n".join(repr(line) for line in sheet.grid(workbook=fmt == "xlsx")))
    if fmt == "xlsx":
        book = openpyxl.Workbook()
        page = book.active
        for r, line in enumerate(sheet.grid(workbook=True), 1):
            for c, value in enumerate(line, 1):
                if value is not None:
                    page.cell(row=r, column=c, value=value)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t" if fmt == "tsv_utf16" else ",").writerows(
        sheet.grid(workbook=False)
    )
    encoding = {"csv": "utf-8", "csv_bom": "utf-8-sig", "csv_gb18030": "gb18030"}
    return buffer.getvalue().encode(encoding.get(fmt, "utf-16"))


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是表格")
    return buffer.getvalue()


def mangled(data: bytes) -> st.SearchStrategy[bytes]:
    """The ways a file arrives broken: cut short, bytes overwritten or inserted, or not a
    spreadsheet at all."""
    junk = st.binary(min_size=1, max_size=64)
    where = st.integers(0, len(data))
    return st.one_of(
        st.integers(0, max(len(data) - 1, 0)).map(lambda n: data[:n]),
        st.tuples(where, junk).map(lambda a: data[: a[0]] + a[1] + data[a[0] + len(a[1]) :]),
        st.tuples(where, junk).map(lambda a: data[: a[0]] + a[1] + data[a[0] :]),
        junk,
        st.sampled_from(
            [
                b"",
                b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
                b"GIF89a" + bytes(range(256)),
                b"%PDF-1.4\n" + bytes(range(256)),
                b"<html><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table></html>",
                _zip_of_text(),
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
                codecs.BOM_UTF8 + data.replace(b",", b";"),
                codecs.BOM_UTF8 + data.replace(b",", b"|"),
                data.decode("utf-8", "replace").encode("utf-16-le") if data else b"x",
            ]
        ),
    )
