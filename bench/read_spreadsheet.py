"""Benchmark of pension.spreadsheets on a synthetic police household-registry export.

    python bench/read_spreadsheet.py --rows 1000000          # CSV only
    python bench/read_spreadsheet.py --rows 200000 --xlsx    # CSV and xlsx (writing takes a while)

The export has a title row above the header and the columns 公民身份号码, 姓名, 性别, 出生日期,
区划代码, 户号, 人员状态; one row in a thousand carries a wrong check digit. Each measurement
runs in a fresh interpreter so that its peak memory (ru_maxrss) is its own:

- raw:   read_table + iterating every row, no cell parsing;
- parse: the same plus text() / parse_date() / parse_id_number() and pension.idnumber.parse
         on every row.

No Django settings are needed: the reader is a pure helper.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADER = ("公民身份号码", "姓名", "性别", "出生日期", "区划代码", "户号", "人员状态")
TITLE = "沧源佤族自治县公安局户籍人口信息导出（测试数据）"
SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗肖田鲍岩"
GIVEN = "明华国建军平志伟强芳秀英玉兰桂珍云丽娜艾块门叶嘎"
STATUSES = ("正常", "正常", "正常", "正常", "迁出", "死亡")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def registry_rows(count: int, seed: int = 2023):
    """Tuples of (id, name, sex, birth date, region code, household, status)."""
    rng = random.Random(seed)
    epoch = datetime.date(1940, 1, 1).toordinal()
    span = datetime.date(2022, 12, 31).toordinal() - epoch
    for i in range(count):
        born = datetime.date.fromordinal(epoch + rng.randrange(span))
        sequence = rng.randrange(1000)
        first17 = f"530927{born:%Y%m%d}{sequence:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
        if i % 1000 == 999:
            check = "0" if check != "0" else "1"
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        sex = "男" if sequence % 2 else "女"
        region = f"530927{rng.randrange(100, 112):03d}{rng.randrange(200, 230):03d}"
        yield (first17 + check, name, sex, born, region, f"{i // 4:09d}", rng.choice(STATUSES))


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(TITLE + "\r\n" + ",".join(HEADER) + "\r\n")
        batch = []
        for row in registry_rows(count):
            batch.append(",".join((*row[:3], row[3].isoformat(), *row[4:])))
            if len(batch) == 10000:
                out.write("\r\n".join(batch) + "\r\n")
                batch.clear()
        if batch:
            out.write("\r\n".join(batch) + "\r\n")


def write_xlsx(path: Path, count: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("户籍人口")
    sheet.append([TITLE])
    sheet.append(list(HEADER))
    for row in registry_rows(count):
        sheet.append(list(row))  # the birth date is a real date cell
    workbook.save(path)


def measure(path: str, phase: str) -> dict[str, object]:
    """One measurement, run in a child process."""
    from pension import idnumber
    from pension.spreadsheets import (
        CellError,
        Column,
        parse_date,
        parse_id_number,
        read_table,
        text,
    )

    columns = (
        Column("id_number", "公民身份号码", aliases=("身份证号", "身份证号码")),
        Column("name", "姓名"),
        Column("sex", "性别", required=False),
        Column("birth_date", "出生日期", required=False),
        Column("region", "区划代码"),
        Column("household", "户号", required=False),
        Column("status", "人员状态", required=False),
    )
    today = datetime.date.today()
    rows = bad = 0
    started = time.perf_counter()
    table = read_table(path, columns=columns)
    if phase == "raw":
        for _ in table.rows():
            rows += 1
    else:
        for _number, (id_cell, name, sex, born, region, household, status) in table.rows():
            rows += 1
            try:
                parsed = idnumber.parse(parse_id_number(id_cell), today=today)
                values = (text(name), text(sex), parse_date(born), text(region))
                values += (text(household), text(status), parsed.number)
            except (CellError, idnumber.InvalidIDNumber):
                bad += 1
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": rows, "bad": bad, "seconds": seconds, "peak_mb": peak}


def run_child(path: Path, phase: str) -> dict[str, object]:
    command = [sys.executable, __file__, "--measure", phase, "--file", str(path)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(label: str, figures: dict[str, object]) -> None:
    rows, seconds = int(figures["rows"]), float(figures["seconds"])
    line = (
        f"{label}: {rows} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s), "
        f"peak {float(figures['peak_mb']):.0f} MB"
    )
    if figures["bad"]:
        line += f", {figures['bad']} rows rejected"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx", action="store_true", help="also write and read an xlsx file")
    parser.add_argument("--measure", choices=("raw", "parse"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.file, args.measure)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-spreadsheet-") as tmp:
        files = [("csv", Path(tmp) / "registry.csv", write_csv)]
        if args.xlsx:
            files.append(("xlsx", Path(tmp) / "registry.xlsx", write_xlsx))
        for kind, path, writer in files:
            started = time.perf_counter()
            writer(path, args.rows)
            size = path.stat().st_size / (1 << 20)
            took = time.perf_counter() - started
            print(f"{kind} written: {args.rows} rows, {size:.1f} MB in {took:.1f} s", flush=True)
            for phase in ("raw", "parse"):
                report(f"{kind} {phase}", run_child(path, phase))


if __name__ == "__main__":
    main()
