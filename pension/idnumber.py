"""Chinese resident ID numbers (公民身份号码, GB 11643): normalise, validate, read, mask.

python-stdnum's ``stdnum.cn.ric`` is not allowed to decide validity here. Its ``validate``
requires the birthplace code to have existed in the holder's birth year, so it turns away
real residents whose county was created or renumbered after they were born (临夏市 622901
dates from 1983, 沧源 530927 from 2003), and for prefixes that only match at province level
it raises ``KeyError``, which its own ``is_valid`` does not catch. A number is therefore valid
on format, birth date and check digit alone; the area code only yields a soft warning.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from operator import mul

from pension.i18n import gettext as _
from pension.i18n import gettext_lazy

__all__ = [
    "IDNumber",
    "InvalidIDNumber",
    "age_on",
    "birth_date_of",
    "birthplace_warning",
    "check_digit",
    "is_valid",
    "mask",
    "normalise",
    "parse",
    "sex_of",
    "upgrade_15",
    "validate",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ZERO_OFFSET = ord("0") * sum(_WEIGHTS)

# Spelled [0-9] rather than \d: in Python \d also matches Arabic-Indic and other digits.
_RE_18 = re.compile(r"[0-9]{17}[0-9X]")
_RE_15 = re.compile(r"[0-9]{15}")
_RE_17 = re.compile(r"[0-9]{17}")
_RE_AREA = re.compile(r"[0-9]{6}")

# Full-width ASCII (U+FF01..U+FF5E) sits at a fixed offset from ASCII; U+3000 is the
# full-width space. A table is used instead of NFKC, which would also quietly turn
# circled or superscript digits into plain ones.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_EARLIEST_BIRTH = datetime.date(1900, 1, 1)

_MSG_FORMAT = gettext_lazy("身份证号码格式错误：应为18位（前17位为数字，末位为数字或X）")


class InvalidIDNumber(ValueError):
    """A hard validation failure; ``code`` is for programs, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        message = str(message)  # a lazy message is read in the language active now
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[InvalidIDNumber], tuple[str, str]]:
        # The default reduce would call cls(message) and fail; pickling matters because
        # these errors can cross process boundaries (Celery results, multiprocessing).
        return (type(self), (self.code, self.message))


@dataclass(frozen=True)
class IDNumber:
    number: str
    birth_date: datetime.date
    sex: str
    upgraded: bool

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalise(raw: str | None) -> str:
    """Text clean-up only: half-width, trimmed, upper-case X. No upgrade, no validation."""
    if not raw:
        return ""
    # str() because spreadsheet imports hand over 15-digit numbers as ints.
    return str(raw).translate(_HALF_WIDTH).strip().upper()


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if not _RE_17.fullmatch(first17):
        raise InvalidIDNumber("format", _MSG_FORMAT)
    # Byte arithmetic instead of int() per digit: registry imports check a million numbers.
    total = sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO_OFFSET
    return _CHECK_CHARS[total % 11]


def upgrade_15(number15: str) -> str:
    """Turn a first-generation 15-digit number into its 18-digit form."""
    number15 = normalise(number15)
    if not _RE_15.fullmatch(number15):
        raise InvalidIDNumber("format", _MSG_FORMAT)
    # 15-digit cards were issued only to people born in the 1900s, hence the fixed "19".
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_digit(first17)


def _to_18(raw: str | None) -> tuple[str, bool]:
    number = normalise(raw)
    if _RE_15.fullmatch(number):
        return upgrade_15(number), True
    if not _RE_18.fullmatch(number):
        raise InvalidIDNumber("format", _MSG_FORMAT)
    return number, False


def _read_birth_date(number18: str) -> datetime.date:
    digits = number18[6:14]
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIDNumber(
            "birth_date", _("身份证号码中的出生日期无效：%(digits)s") % {"digits": digits}
        ) from None
    if born < _EARLIEST_BIRTH:
        raise InvalidIDNumber(
            "birth_date",
            _("身份证号码中的出生日期无效：%(digits)s（早于1900年1月1日）") % {"digits": digits},
        )
    return born


def parse(raw: str | None, *, today: datetime.date | None = None) -> IDNumber:
    """Normalise, upgrade 15 to 18 digits and run every hard check."""
    number, upgraded = _to_18(raw)
    born = _read_birth_date(number)
    if today is None:
        today = datetime.date.today()
    if born > today:
        raise InvalidIDNumber(
            "birth_future",
            _("身份证号码中的出生日期晚于今天：%(digits)s") % {"digits": number[6:14]},
        )
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIDNumber(
            "check_digit", _("身份证号码校验位错误：末位应为%(digit)s") % {"digit": expected}
        )
    return IDNumber(number=number, birth_date=born, sex=_sex(number), upgraded=upgraded)


def validate(raw: str | None, *, today: datetime.date | None = None) -> str:
    """The normalised 18-digit number, or ``InvalidIDNumber``."""
    return parse(raw, today=today).number


def is_valid(raw: str | None, *, today: datetime.date | None = None) -> bool:
    try:
        parse(raw, today=today)
    except InvalidIDNumber:
        return False
    return True


def _sex(number18: str) -> str:
    return "M" if int(number18[16]) % 2 else "F"


def birth_date_of(number: str) -> datetime.date:
    """Birth date from a stored number (15 or 18 digits).

    Reads the field without re-checking the check digit or ``today``, so that a number
    validated on entry stays readable; use ``parse`` for untrusted input.
    """
    return _read_birth_date(_to_18(number)[0])


def sex_of(number: str) -> str:
    """ "M" for an odd 17th digit, "F" for an even one; same trust rules as ``birth_date_of``."""
    return _sex(_to_18(number)[0])


def age_on(number_or_birth: str | datetime.date, on: datetime.date) -> int:
    """Completed years on ``on``; a 29 February birthday falls on 1 March in common years."""
    born = (
        number_or_birth
        if isinstance(number_or_birth, datetime.date)
        else birth_date_of(number_or_birth)
    )
    if on < born:
        raise ValueError(
            _("日期 %(day)s 早于出生日期 %(born)s")
            % {"day": on.isoformat(), "born": born.isoformat()}
        )
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask(number: str) -> str:
    """First 6 + eight stars + last 4, the form used on public notices."""
    full = _to_18(number)[0]
    # Always mask the 18-digit form: a masked 15-digit number would leak the day of birth.
    return full[:6] + "*" * 8 + full[-4:]


def birthplace_warning(number: str | None) -> str | None:
    """A soft warning when the area code is unknown to stdnum's table; never raises."""
    try:
        code = normalise(number)[:6]
        if not _RE_AREA.fullmatch(code):
            return None
        # Imported here, inside the try, so a missing or broken stdnum only loses the hint.
        from stdnum import numdb

        # Queried directly instead of via ric.get_birth_place: that call rejects codes
        # younger than the holder and raises KeyError on province-only matches. Here any
        # county entry, whatever its years of validity, counts as known.
        found: dict[str, str] = {}
        for _part, props in numdb.get("cn/loc").info(code):
            found.update(props)
        if "county" in found:
            return None
        return _("出生地代码 %(code)s 未在行政区划代码表中找到（仅提示，不影响有效性）") % {
            "code": code
        }
    except Exception:  # noqa: BLE001 - a hint must never break validation
        return None
