"""The one spreadsheet reader every importer uses: xlsx, xls and CSV in, rows of raw values out.

``read_table`` opens a file, decides its format from its content (a renamed file or a web page
saved as ".xls" is common in county offices), finds the header row among the first rows and
maps the requested columns by their Chinese names. Structural problems raise
``SpreadsheetError`` before a single row is handed out, so an importer that stops on it has
applied nothing. Cell problems are the caller's business, one row at a time: the helpers
``text``, ``parse_date``, ``parse_id_number``, ``parse_code`` and ``parse_decimal`` raise
``CellError`` with a Chinese reason, and ``Table.letter`` names the column for the report.

Empty cells are ``""`` in both formats (CSV has no other empty; python-calamine gives ``""``
too); ``None`` only stands for an optional column that the file does not have.

The module imports no Django models: it is a pure helper and runs without settings.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any

from pension import idnumber
from pension.i18n import gettext as _
from pension.i18n import gettext_lazy, ngettext, pgettext

__all__ = [
    "CellError",
    "Column",
    "SpreadsheetError",
    "Table",
    "parse_code",
    "parse_date",
    "parse_decimal",
    "parse_id_number",
    "read_table",
    "text",
]


class SpreadsheetError(Exception):
    """Structural problem: nothing of the file may be applied. ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        message = str(message)  # a lazy message is read in the language active now
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CellError(ValueError):
    """One cell's value is unusable. ``message`` has no row or column: the caller adds them."""

    def __init__(self, message: str) -> None:
        message = str(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass
class Table:
    filename: str
    sheet_name: str | None
    header_row: int
    columns: tuple[Column, ...]
    present: frozenset[str]
    _positions: dict[str, int] = field(default_factory=dict, repr=False)
    _rows: Callable[[], Iterator[tuple[int, tuple[object, ...]]]] | None = field(
        default=None, repr=False
    )

    def rows(self) -> Iterator[tuple[int, tuple[object, ...]]]:
        """(row number as the spreadsheet shows it, values in the order of ``columns``).

        Completely blank rows are skipped. Each call starts again from the first data row
        (for a file object by seeking it, so iterate one ``rows()`` of it at a time).
        A CSV whose quoting breaks down far below the header raises ``SpreadsheetError``
        while iterating; importers stage rows before applying them, so that too applies nothing.
        """
        if self._rows is None:
            return iter(())
        return self._rows()

    def letter(self, key: str) -> str | None:
        """The column letter of ``key`` in the file ("A", "B", … "AA"), None if absent."""
        position = self._positions.get(key)
        return None if position is None else column_letter(position)


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Messages -------------------------------------------------------------------------------

MSG_EMPTY = gettext_lazy("文件为空")
MSG_NOT_SPREADSHEET = gettext_lazy("不是电子表格文件（支持 xlsx、xls、csv）")
MSG_ENCRYPTED = gettext_lazy("文件已加密（设置了打开密码），请取消密码后另存为 xlsx 再上传")
MSG_OLE_UNREADABLE = gettext_lazy(
    "文件无法读取：已加密或不是有效的 xls 文件，请用 Excel 打开，取消密码后另存为 xlsx 再上传"
)
MSG_CORRUPT = gettext_lazy("文件已损坏，无法读取（可能下载或复制不完整），请重新导出后再上传")
MSG_ENCODING = gettext_lazy(
    "无法识别文件编码：既不是 UTF-8 也不是 GB18030/GBK，"
    "请用 Excel 另存为“CSV UTF-8（逗号分隔）”或 xlsx 后再上传"
)
MSG_HTML = gettext_lazy(
    "不是电子表格文件（支持 xlsx、xls、csv）：这是网页（HTML/XML）格式的导出文件，"
    "请用 Excel 打开后另存为 xlsx 再上传"
)
MSG_SCIENTIFIC = gettext_lazy(
    "身份证号码被Excel转换为科学计数法，后几位已丢失，请将该列设置为文本后重新导出"
)
MSG_CODE_SCIENTIFIC = gettext_lazy(
    "代码被Excel转换为科学计数法，后几位已丢失，请将该列设置为文本后重新导出"
)


def _listed(items: Iterable[object]) -> str:
    """Column names and such in a message: 姓名、性别 in Chinese, 姓名, 性别 in English."""
    return pgettext("list separator", "、").join(str(item) for item in items)


# --- Text normalisation -----------------------------------------------------------------------

# Full-width ASCII (U+FF01..U+FF5E) sits at a fixed offset from ASCII; U+3000 is the
# full-width space. A table rather than NFKC, which would also turn circled digits into digits.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# For free text only spaces and digits: a name or address keeps its Chinese punctuation.
_TEXT_HALF_WIDTH = {0x3000: 0x20} | {0xFF10 + d: 0x30 + d for d in range(10)}
# str.translate looks every character up in the dict; searching first is several times faster
# for the usual cell, which has nothing to translate.
_HAS_TEXT_FULL_WIDTH = re.compile("[\u3000\uff10-\uff19]").search


def _header_key(value: object) -> str:
    """A header cell or column name as compared: half-width, no spaces, no trailing * or :."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    name = "".join(str(value).translate(_HALF_WIDTH).split())
    return name.strip("*").rstrip(":").strip("*").casefold()


# --- Reading --------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGICS = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"%PDF",
    b"BM",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",  # gzip
    b"PK\x05\x06",  # empty zip
    b"MZ",  # Windows program
    b"\x7fELF",
)
# Names of the streams an encrypted OOXML package keeps in its OLE directory (MS-OFFCRYPTO).
_ENCRYPTION_MARKERS = tuple(
    name.encode("utf-16-le") for name in ("EncryptionInfo", "EncryptedPackage")
)
_SNIFF_BYTES = 8192
_CHUNK = 1 << 20


class _Source:
    """Re-openable access to the bytes of a path, a file-like object or a bytes value."""

    def __init__(self, source: Any, filename: str | None) -> None:
        self.path: Path | None = None
        self.fileobj: Any = None
        if isinstance(source, (str, os.PathLike)):
            self.path = Path(source)
            name = self.path.name
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.fileobj = io.BytesIO(bytes(source))
            name = ""
        elif hasattr(source, "read"):
            name = os.path.basename(str(getattr(source, "name", "") or ""))
            seekable = getattr(source, "seekable", None)
            if callable(seekable) and seekable():
                self.fileobj = source
            else:
                self.fileobj = io.BytesIO(source.read())
        else:
            raise TypeError(f"read_table needs a path or a binary file, not {type(source)!r}")
        self.filename = filename or name
        self.declared_size = getattr(source, "size", None)

    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        if isinstance(self.declared_size, int):
            return self.declared_size
        self.fileobj.seek(0, os.SEEK_END)
        return self.fileobj.tell()

    def open(self) -> Any:
        """A binary stream at offset 0. Close it with ``release``."""
        if self.path is not None:
            return open(self.path, "rb")
        self.fileobj.seek(0)
        return self.fileobj

    def release(self, stream: Any) -> None:
        if self.path is not None:
            stream.close()


def _megabytes(size: int) -> str:
    tenths = -(-size * 10 // (1 << 20))  # rounded up, so "11 MB" never shows as the limit
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def read_table(
    source: Any,
    *,
    columns: Sequence[Column],
    filename: str | None = None,
    max_bytes: int | None = None,
    header_scan_rows: int = 10,
) -> Table:
    """Open ``source`` (path, bytes or binary file such as Django's UploadedFile).

    The format is decided by content: a zip is xlsx, an OLE2 file is xls (or an encrypted
    xlsx), anything else is read as CSV in UTF-8 or GB18030. The first sheet of a workbook
    is read. The header is the first of the first ``header_scan_rows`` rows that names the
    most requested columns, all required ones included.
    """
    columns = tuple(columns)
    lookup = _lookup(columns)
    src = _Source(source, filename)
    if max_bytes is not None:
        size = src.size()
        if size > max_bytes:
            raise SpreadsheetError(
                _("文件过大：%(size)s MB，上限 %(limit)s MB")
                % {"size": _megabytes(size), "limit": _megabytes(max_bytes)}
            )
    stream = src.open()
    try:
        head = stream.read(_SNIFF_BYTES)
    finally:
        src.release(stream)
    if not head:
        raise SpreadsheetError(MSG_EMPTY)
    if head.startswith(_ZIP_MAGIC):
        return _read_zip(src, columns, lookup, header_scan_rows)
    if head.startswith(_OLE_MAGIC):
        return _read_ole(src, columns, lookup, header_scan_rows)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode 文本" save: UTF-16 with a BOM, tab-separated.
        encoding = _csv_encoding(src, ("utf-16",))
        return _read_csv(src, encoding, columns, lookup, header_scan_rows)
    if head.startswith(_BINARY_MAGICS) or b"\x00" in head:
        raise SpreadsheetError(MSG_NOT_SPREADSHEET)
    return _read_csv(src, _csv_encoding(src), columns, lookup, header_scan_rows)


def _lookup(columns: tuple[Column, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for column in columns:
        for name in (column.label, *column.aliases):
            normalised = _header_key(name)
            owner = lookup.setdefault(normalised, column.key)
            if owner != column.key:
                raise ValueError(
                    f"column name {name!r} is used by both {owner!r} and {column.key!r}"
                )
    return lookup


@dataclass
class _Header:
    row: int  # 0-based index among the scanned rows
    positions: dict[str, int]  # key -> 0-based column index


def _find_header(
    rows: Sequence[Sequence[object]],
    columns: tuple[Column, ...],
    lookup: dict[str, str],
    scan: int,
) -> _Header:
    required = {c.key for c in columns if c.required}
    best: tuple[int, int, dict[str, int], dict[str, list[int]]] | None = None
    best_qualifying: tuple[int, int, dict[str, int], dict[str, list[int]]] | None = None
    for index, row in enumerate(rows[:scan]):
        positions: dict[str, int] = {}
        repeats: dict[str, list[int]] = {}
        for position, cell in enumerate(row):
            key = lookup.get(_header_key(cell))
            if key is None:
                continue
            if key in positions:
                repeats.setdefault(key, [positions[key]]).append(position)
            else:
                positions[key] = position
        candidate = (len(positions), index, positions, repeats)
        if best is None or candidate[0] > best[0]:
            best = candidate
        if (
            required <= positions.keys()
            and positions
            and (best_qualifying is None or candidate[0] > best_qualifying[0])
        ):
            best_qualifying = candidate
    labels = {c.key: c.label for c in columns}
    if best_qualifying is None:
        if best is None or best[0] == 0:
            wanted = [c.label for c in columns if c.required] or [c.label for c in columns]
            raise SpreadsheetError(
                ngettext(
                    "未找到表头：前%(scan)s行中没有可识别的列名（需要：%(columns)s）",
                    "未找到表头：前%(scan)s行中没有可识别的列名（需要：%(columns)s）",
                    scan,
                )
                % {"scan": scan, "columns": _listed(wanted)}
            )
        missing = [c.label for c in columns if c.required and c.key not in best[2]]
        raise SpreadsheetError(
            ngettext(
                "缺少必需的列：%(columns)s（表头应在前%(scan)s行内）",
                "缺少必需的列：%(columns)s（表头应在前%(scan)s行内）",
                scan,
            )
            % {"columns": _listed(missing), "scan": scan}
        )
    _found, index, positions, repeats = best_qualifying
    if repeats:
        key, where = next(iter(repeats.items()))
        cells = _listed(
            _("%(letter)s列“%(name)s”") % {"letter": column_letter(p), "name": rows[index][p]}
            for p in where
        )
        raise SpreadsheetError(
            _("表头第%(row)s行中“%(column)s”列出现了多次（%(cells)s），请只保留一列")
            % {"row": index + 1, "column": labels[key], "cells": cells}
        )
    return _Header(row=index, positions=positions)


def _picker(
    columns: tuple[Column, ...], positions: dict[str, int], offset: int = 0
) -> tuple[Callable[[list[Any]], tuple[object, ...]], int]:
    """A function taking a raw row (padded to the returned width) to the requested values."""
    indices = [positions[c.key] - offset if c.key in positions else -1 for c in columns]
    width = max((i for i in indices if i >= 0), default=-1) + 1
    if -1 in indices:
        # An absent optional column reads the None appended to the row.
        # At least one column is present (it made the header), so the getter returns a
        # tuple. Rows are fresh lists from the reader, so appending to them is safe.
        getter = itemgetter(*indices)

        def pick_with_absent(row: list[Any]) -> tuple[object, ...]:
            row.append(None)
            return getter(row)

        return pick_with_absent, width
    if len(indices) == 1:
        only = indices[0]
        return (lambda row: (row[only],)), width
    return itemgetter(*indices), width


# --- CSV --------------------------------------------------------------------------------------


_CHINESE = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _csv_encoding(src: _Source, candidates: tuple[str, ...] = ("utf-8-sig", "gb18030")) -> str:
    """The first of ``candidates`` in which the whole file decodes strictly.

    UTF-8 (with or without BOM) comes first: GB18030 would accept most UTF-8 bytes as
    nonsense. The whole file is checked up front, chunk by chunk and without keeping the
    text, so that a stray byte on row 800,000 cannot stop an import half-way through.
    """
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        is_utf8 = encoding == "utf-8-sig"
        nul_is_binary = not encoding.startswith("utf-16")
        stream = src.open()
        lines = 0
        seen_chinese = False
        try:
            while chunk := stream.read(_CHUNK):
                if nul_is_binary and b"\x00" in chunk:
                    raise SpreadsheetError(MSG_NOT_SPREADSHEET)
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    before = chunk[: max(exc.start, 0)].decode("utf-8", "ignore")
                    if is_utf8 and (seen_chinese or _CHINESE.search(before)):
                        # Chinese text in UTF-8 and then something else: reading the whole
                        # file as GB18030 would only turn the first part into nonsense.
                        line = lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
                        raise SpreadsheetError(
                            _(
                                "文件编码混杂：开头是 UTF-8 编码，但第%(line)s行含有其他编码的"
                                "字符（可能是从别的文件粘贴的），请用 Excel 打开后另存为"
                                "“CSV UTF-8（逗号分隔）”或 xlsx 再上传"
                            )
                            % {"line": line}
                        ) from exc
                    raise
                if is_utf8:
                    # Chinese read as UTF-8, not merely bytes UTF-8 accepts: GB18030's 证 (D6 A4)
                    # is a valid UTF-8 Hebrew point, and such a file is GB18030 throughout.
                    seen_chinese = seen_chinese or bool(_CHINESE.search(text))
                    lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            src.release(stream)
        return encoding
    raise SpreadsheetError(MSG_ENCODING)


def _open_text(src: _Source, encoding: str) -> tuple[Any, io.TextIOWrapper]:
    stream = src.open()
    return stream, io.TextIOWrapper(stream, encoding=encoding, newline="")


def _close_text(src: _Source, stream: Any, wrapper: io.TextIOWrapper) -> None:
    # Detach so that closing the wrapper never closes a caller's file (an UploadedFile).
    wrapper.detach()
    src.release(stream)


def _csv_delimiter(lines: list[str]) -> str:
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    return "\t" if tabs > commas else ","


def _csv_error(exc: csv.Error, row: int) -> str:
    """Almost always a quote opened and never closed, which swallows the rest of the file.
    Python's own words (English) stay out of the clerk's message."""
    return _(
        "CSV 文件格式错误：第%(row)s行附近的引号不成对或单元格内容过长，"
        "请用 Excel 打开后另存为 CSV 或 xlsx 再上传"
    ) % {"row": row}


def _csv_blank(row: list[str]) -> bool:
    return not "".join(row).strip()


def _read_csv(
    src: _Source,
    encoding: str,
    columns: tuple[Column, ...],
    lookup: dict[str, str],
    scan: int,
) -> Table:
    stream, wrapper = _open_text(src, encoding)
    try:
        sample = [wrapper.readline() for _ in range(max(scan, 1))]
    finally:
        _close_text(src, stream, wrapper)
    start = "".join(sample).lstrip().lower()
    if start.startswith(("<!doctype", "<html", "<?xml", "<table")) or "<table" in start:
        raise SpreadsheetError(MSG_HTML)
    delimiter = _csv_delimiter([line for line in sample if line.strip()])

    stream, wrapper = _open_text(src, encoding)
    try:
        reader = csv.reader(wrapper, delimiter=delimiter)
        head: list[list[str]] = []
        try:
            for row in reader:
                head.append(row)
                if len(head) >= scan:
                    break
            if all(_csv_blank(row) for row in head) and all(_csv_blank(row) for row in reader):
                raise SpreadsheetError(MSG_EMPTY)
        except csv.Error as exc:
            raise SpreadsheetError(_csv_error(exc, len(head) + 1)) from exc
    finally:
        _close_text(src, stream, wrapper)
    header = _find_header(head, columns, lookup, scan)
    pick, width = _picker(columns, header.positions)
    skip = header.row + 1

    def rows() -> Iterator[tuple[int, tuple[object, ...]]]:
        stream, wrapper = _open_text(src, encoding)
        try:
            reader = csv.reader(wrapper, delimiter=delimiter)
            for _skipped in zip(range(skip), reader, strict=False):
                pass
            number = skip
            try:
                # The hot loop of every import: a row is only checked cell by cell when its
                # first cell is empty or it is too short.
                for number, row in enumerate(reader, skip + 1):
                    if len(row) < width:
                        if _csv_blank(row):
                            continue
                        row.extend([""] * (width - len(row)))
                    elif (not row[0] or row[0].isspace()) and _csv_blank(row):
                        continue
                    yield number, pick(row)
            except csv.Error as exc:
                raise SpreadsheetError(_csv_error(exc, number + 1)) from exc
        finally:
            _close_text(src, stream, wrapper)

    return Table(
        filename=src.filename,
        sheet_name=None,
        header_row=header.row + 1,
        columns=columns,
        present=frozenset(header.positions),
        _positions=header.positions,
        _rows=rows,
    )


# --- Workbooks (python-calamine) -----------------------------------------------------------


def _read_zip(
    src: _Source, columns: tuple[Column, ...], lookup: dict[str, str], scan: int
) -> Table:
    stream = src.open()
    try:
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise SpreadsheetError(MSG_CORRUPT) from exc
        if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
            # A Word document, or a zip archive of files.
            raise SpreadsheetError(MSG_NOT_SPREADSHEET)
        stream.seek(0)
        workbook = _calamine(stream, MSG_CORRUPT)
    finally:
        src.release(stream)
    return _read_workbook(src, workbook, columns, lookup, scan, MSG_CORRUPT)


def _read_ole(
    src: _Source, columns: tuple[Column, ...], lookup: dict[str, str], scan: int
) -> Table:
    stream = src.open()
    try:
        data = stream.read()
    finally:
        src.release(stream)
    # An OOXML file with an opening password is an OLE2 container holding the streams
    # "EncryptionInfo" and "EncryptedPackage"; their directory entries are UTF-16 names.
    if any(marker in data for marker in _ENCRYPTION_MARKERS):
        raise SpreadsheetError(MSG_ENCRYPTED)
    workbook = _calamine(io.BytesIO(data), MSG_OLE_UNREADABLE)
    return _read_workbook(src, workbook, columns, lookup, scan, MSG_OLE_UNREADABLE)


def _calamine(stream: Any, message: str) -> Any:
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_filelike(stream)
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(MSG_ENCRYPTED) from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise SpreadsheetError(message) from exc


def _read_workbook(
    src: _Source,
    workbook: Any,
    columns: tuple[Column, ...],
    lookup: dict[str, str],
    scan: int,
    message: str,
) -> Table:
    import python_calamine

    try:
        if not workbook.sheet_names:
            raise SpreadsheetError(MSG_EMPTY)
        sheet_name = workbook.sheet_names[0]
        sheet = workbook.get_sheet_by_index(0)
        # skip_empty_area=False: row 0 is the spreadsheet's row 1 and column 0 is column A,
        # whatever empty rows and columns come first.
        head = sheet.to_python(skip_empty_area=False, nrows=scan + 1)
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(MSG_ENCRYPTED) from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise SpreadsheetError(message) from exc
    if sheet.start is None or (all(_cells_blank(row) for row in head) and sheet.end[0] < len(head)):
        raise SpreadsheetError(
            _("文件为空：第一个工作表“%(sheet)s”中没有数据") % {"sheet": sheet_name}
        )
    header = _find_header(head, columns, lookup, scan)
    header_row = header.row + 1

    def rows() -> Iterator[tuple[int, tuple[object, ...]]]:
        numbered, offset = _aligned_rows(sheet, head, header.row)
        pick, width = _picker(columns, header.positions, offset)
        for number, row in numbered:
            if number <= header_row or _cells_blank(row):
                continue
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            yield number, pick(row)

    return Table(
        filename=src.filename,
        sheet_name=sheet_name,
        header_row=header_row,
        columns=columns,
        present=frozenset(header.positions),
        _positions=header.positions,
        _rows=rows,
    )


def _cells_blank(row: Sequence[object]) -> bool:
    for cell in row:
        if cell.__class__ is str:
            if cell and not cell.isspace():  # type: ignore[attr-defined]
                return False
        elif cell is not None:
            return False
    return True


def _aligned_rows(
    sheet: Any, head: list[list[object]], header_index: int
) -> tuple[Iterator[tuple[int, list[Any]]], int]:
    """Number ``sheet.iter_rows()`` as the spreadsheet does; also its first column's index.

    python-calamine 0.9's ``iter_rows`` pads the empty rows above the data (row i is the
    spreadsheet's row i+1) but starts the columns at the first used one, while ``to_python``
    without ``skip_empty_area`` starts both at A1. Rather than trust either quirk to survive an
    upgrade, the rows up to the header are compared with ``head`` (read from A1) under each
    plausible offset. If none fits, the documented but memory-hungry ``to_python`` is used.
    """
    start_row, start_col = sheet.start
    iterator = sheet.iter_rows()
    buffered = [row for _, row in zip(range(header_index + 1), iterator, strict=False)]
    for row_offset in dict.fromkeys((0, start_row)):
        for col_offset in dict.fromkeys((start_col, 0)):
            if row_offset > header_index:
                continue
            expected = head[row_offset : header_index + 1]
            if len(expected) <= len(buffered) and all(
                got == want[col_offset:] for got, want in zip(buffered, expected, strict=False)
            ):

                def numbered(
                    skip: int = header_index + 1 - row_offset, first: int = row_offset + 1
                ) -> Iterator[tuple[int, list[Any]]]:
                    yield from enumerate(buffered[skip:], first + skip)
                    yield from enumerate(iterator, first + len(buffered))

                return numbered(), col_offset
    return enumerate(sheet.to_python(skip_empty_area=False), 1), 0


# --- Cell helpers ---------------------------------------------------------------------------


def text(value: object) -> str:
    """A cell as text: None -> "", 12.0 -> "12", stripped, full-width spaces and digits halved."""
    if value is None:
        return ""
    if value.__class__ is str:
        if value.isascii() or not _HAS_TEXT_FULL_WIDTH(value):  # type: ignore[attr-defined]
            return value.strip()  # type: ignore[attr-defined]
        return value.translate(_TEXT_HALF_WIDTH).strip()  # type: ignore[attr-defined]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).translate(_TEXT_HALF_WIDTH).strip()


_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 61 is 1900-03-01
_LAST_SERIAL = 2958465  # 9999-12-31
_DATE_PATTERNS = (
    re.compile(
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    ),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"),
)


def _invalid_date(value: object) -> CellError:
    return CellError(_("日期无效：%(value)s") % {"value": value})


def _unreadable_date(value: object, *, hint: bool = False) -> CellError:
    if hint:
        message = _(
            "日期格式无法识别：%(value)s"
            "（应为 2023-03-31、2023/3/31、2023.3.31、20230331 或 2023年3月31日）"
        )
    else:
        message = _("日期格式无法识别：%(value)s")
    return CellError(message % {"value": value})


def parse_date(value: object) -> datetime.date:
    """A date from a date cell, an Excel serial number or one of the usual Chinese spellings."""
    if value.__class__ is str:
        fast = value.strip()  # type: ignore[attr-defined]
        # The common spelling, 2023-03-31, without regular expressions.
        if len(fast) == 10 and fast[4] == "-" == fast[7] and fast.isascii():
            year, month, day = fast[:4], fast[5:7], fast[8:]
            if year.isdigit() and month.isdigit() and day.isdigit():
                try:
                    return datetime.date(int(year), int(month), int(day))
                except ValueError:
                    raise _invalid_date(fast) from None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise _unreadable_date(value)
    if isinstance(value, (int, float, Decimal)):
        return _date_from_number(value)
    raw = text(value)
    if not raw:
        raise CellError(_("日期为空"))
    cleaned = raw.translate(_HALF_WIDTH).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            try:
                return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise _invalid_date(raw) from None
    raise _unreadable_date(raw, hint=True)


def _date_from_number(value: int | float | Decimal) -> datetime.date:
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
        raise _unreadable_date(value)
    whole = int(value)
    if 19000101 <= whole <= 99991231 and whole == value:
        # 20230331 typed into a number cell.
        digits = str(whole)
        try:
            return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise _invalid_date(digits) from None
    if whole < 1 or whole > _LAST_SERIAL:
        raise _unreadable_date(value, hint=True)
    if whole == 60:
        # Lotus 1-2-3's leap-year bug, kept by Excel: serial 60 is 1900-02-29.
        raise _invalid_date("1900-02-29")
    if whole < 60:
        return _EXCEL_EPOCH + datetime.timedelta(days=whole + 1)
    return _EXCEL_EPOCH + datetime.timedelta(days=whole)


_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?E[+-]?\d+")
_POINT_ZERO = re.compile(r"(\d+)\.0+")
_FORMULA_TEXT = re.compile(r'="(.*)"')


def _unwrap(raw: str) -> str:
    """Undo the tricks that keep long numbers as text in exports: ="…", a leading ' ."""
    match = _FORMULA_TEXT.fullmatch(raw)
    if match:
        raw = match[1].strip()
    return raw[1:].strip() if raw.startswith("'") else raw


def parse_id_number(value: object) -> str:
    """The text of an ID-number cell, ready for ``idnumber.parse`` (which does the checking).

    Excel keeps 15 significant digits, so an 18-digit number typed into a number cell loses
    its last digits; that is refused here rather than left to fail the check digit by luck.
    """
    if value.__class__ is str and value.isascii():  # type: ignore[attr-defined]
        fast = value.strip().upper()  # type: ignore[attr-defined]
        # The usual cell: 15 digits, or 17 digits and a check character.
        if len(fast) in (15, 18) and fast[:17].isdigit():
            return fast
    if value is None or isinstance(value, bool):
        raise CellError(_("身份证号码为空") if value is None else _bad_id_number(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise CellError(_bad_id_number(value))
        if value.as_tuple().exponent > 0:  # type: ignore[operator]
            raise CellError(MSG_SCIENTIFIC)
        return str(int(value))
    if isinstance(value, float):
        # Up to 15 digits a float is exact (an old 15-digit number stored as a number);
        # an 18-digit number in a float has lost digits.
        if value.is_integer() and 0 < value < 1e15:
            return str(int(value))
        if value >= 1e15:
            raise CellError(MSG_SCIENTIFIC)
        raise CellError(_bad_id_number(value))
    if not isinstance(value, str):
        raise CellError(_bad_id_number(value))
    raw = "".join(_unwrap(idnumber.normalise(value)).split())
    if not raw:
        raise CellError(_("身份证号码为空"))
    if _SCIENTIFIC.fullmatch(raw):
        raise CellError(MSG_SCIENTIFIC)
    match = _POINT_ZERO.fullmatch(raw)
    return match[1] if match else raw


def _bad_id_number(value: object) -> str:
    return _("身份证号码格式错误：%(value)s") % {"value": value}


def _lengths_text(lengths: Sequence[int]) -> str:
    names = [_("%(n)s位") % {"n": n} for n in lengths]
    if len(names) == 1:
        return names[0]
    # Translators: the last two of the code lengths a file may use ("12位或15位").
    return _("%(first)s或%(last)s") % {"first": _listed(names[:-1]), "last": names[-1]}


def _bad_code(value: object, lengths: Sequence[int]) -> CellError:
    return CellError(
        _("代码应为%(lengths)s数字：%(value)s")
        % {"lengths": _lengths_text(lengths), "value": value}
    )


def parse_code(value: object, *, lengths: Sequence[int] = (12, 15)) -> str:
    """A numeric code (region codes: 12-digit village, 15-digit group) as text."""
    if value is None or isinstance(value, bool):
        raise CellError(_("代码为空")) if value is None else _bad_code(value, lengths)
    if isinstance(value, int):
        raw = str(value)
    elif isinstance(value, float):
        # Exact below 2**53, which covers 15 digits.
        if not value.is_integer() or not 0 <= value < 2**53:
            if value >= 2**53:
                raise CellError(MSG_CODE_SCIENTIFIC)
            raise _bad_code(value, lengths)
        raw = str(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise _bad_code(value, lengths)
        if value.as_tuple().exponent > 0:  # type: ignore[operator]
            raise CellError(MSG_CODE_SCIENTIFIC)
        raw = str(int(value))
    elif isinstance(value, str):
        raw = "".join(_unwrap(value.translate(_HALF_WIDTH).strip()).split()).upper()
        if not raw:
            raise CellError(_("代码为空"))
        if _SCIENTIFIC.fullmatch(raw):
            raise CellError(MSG_CODE_SCIENTIFIC)
        match = _POINT_ZERO.fullmatch(raw)
        if match:
            raw = match[1]
    else:
        raise _bad_code(value, lengths)
    if not (raw.isascii() and raw.isdigit() and len(raw) in lengths):
        raise _bad_code(raw, lengths)
    return raw


_CENT = Decimal("0.01")
_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Written after an amount in a cell ("300元"), and removed before reading it.
YUAN_SUFFIX = "元"


def _bad_amount(value: object) -> CellError:
    return CellError(_("金额格式错误：%(value)s") % {"value": value})


def parse_decimal(value: object) -> Decimal:
    """A money cell in yuan, two places: "1,500.00", "300元", 300, 300.5 (float)."""
    if value is None or isinstance(value, bool):
        raise CellError(_("金额为空")) if value is None else _bad_amount(value)
    if isinstance(value, int):
        return Decimal(value).quantize(_CENT)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad_amount(value)
        amount = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _bad_amount(value)
        amount = value
    elif isinstance(value, str):
        raw = value.translate(_HALF_WIDTH).strip()
        cleaned = "".join(raw.split()).replace(",", "").lstrip("¥￥").removesuffix(YUAN_SUFFIX)
        if not cleaned:
            raise CellError(_("金额为空"))
        if not _AMOUNT.fullmatch(cleaned):
            raise _bad_amount(raw)
        amount = Decimal(cleaned)
    else:
        raise _bad_amount(value)
    try:
        rounded = amount.quantize(_CENT)
    except InvalidOperation:
        raise _bad_amount(value) from None
    if rounded != amount:
        raise CellError(_("金额最多两位小数：%(amount)s") % {"amount": amount})
    return rounded
