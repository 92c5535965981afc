import datetime
import pickle

import pytest
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from pension.idnumber import (
    IDNumber,
    InvalidIDNumber,
    age_on,
    birth_date_of,
    birthplace_warning,
    check_digit,
    is_valid,
    mask,
    normalise,
    parse,
    sex_of,
    upgrade_15,
    validate,
)

TODAY = datetime.date(2024, 6, 15)


def with_check(first17: str) -> str:
    """Written out independently of the module so the tests do not grade their own homework."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def wrong_check(first17: str) -> str:
    right = with_check(first17)[-1]
    return first17 + ("1" if right == "0" else "0")


def stdnum_verdict(number: str) -> bool | None:
    """True/False from stdnum, or None when it blows up instead of answering."""
    try:
        return ric.is_valid(number)
    except Exception:  # noqa: BLE001 - stdnum's crashes are exactly what is being shown
        return None


def error_of(raw: str, **kwargs: datetime.date) -> InvalidIDNumber:
    with pytest.raises(InvalidIDNumber) as caught:
        parse(raw, **kwargs)
    return caught.value


def test_the_helper_reproduces_the_published_gb11643_example() -> None:
    assert with_check("11010519491231002") == "11010519491231002X"


@pytest.mark.parametrize("first17", ["11010519491231002", "36042619910101007", "62290119700312003"])
def test_check_digit_agrees_with_the_independent_helper(first17: str) -> None:
    assert first17 + check_digit(first17) == with_check(first17)


@pytest.mark.parametrize(
    ("born_before", "born_after"),
    [("62290119700312003", "62290119900312003"), ("53092719900825004", "53092720100825004")],
    ids=["linxia-622901-since-1983", "cangyuan-530927-since-2003"],
)
def test_it_accepts_residents_older_than_their_county_code(
    born_before: str, born_after: str
) -> None:
    number = with_check(born_before)
    assert validate(number, today=TODAY) == number
    assert birthplace_warning(number) is None  # the code exists; its age is no reason to warn
    if stdnum_verdict(number) is not True:
        # Same county, only the birth year differs: stdnum's verdict hinges on the code's age.
        assert stdnum_verdict(with_check(born_after)) is True
        with pytest.raises(InvalidComponent):
            ric.get_birth_place(number)


def test_it_accepts_a_province_only_area_code_that_makes_stdnum_crash() -> None:
    number = with_check("62009919851111001")
    assert is_valid(number, today=TODAY)
    with pytest.raises(KeyError):
        ric.validate(number)


def test_it_accepts_a_lower_case_x_check_digit() -> None:
    number = with_check("11010519491231002")
    assert number.endswith("X")
    assert validate(number.lower(), today=TODAY) == number


def test_it_accepts_full_width_digits_and_x() -> None:
    number = with_check("11010519491231002")
    full_width = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert full_width.startswith("１１０１０５") and full_width.endswith("Ｘ")
    assert validate(full_width, today=TODAY) == number
    assert validate(full_width.replace("Ｘ", "ｘ"), today=TODAY) == number


@pytest.mark.parametrize("pad", [" ", "\u3000", "\t", " \u3000\n"])
def test_it_strips_surrounding_whitespace_including_the_ideographic_space(pad: str) -> None:
    number = with_check("62290119700312003")
    assert validate(pad + number + pad, today=TODAY) == number


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, ""), ("", ""), ("\u3000 ", ""), (" １２３ｘ ", "123X")]
)
def test_normalise_only_cleans_the_text_without_upgrading_or_validating(
    raw: str | None, expected: str
) -> None:
    assert normalise(raw) == expected


def test_it_rejects_a_wrong_check_digit_and_names_the_expected_one() -> None:
    first17 = "53092719900825004"
    err = error_of(wrong_check(first17), today=TODAY)
    assert err.code == "check_digit"
    assert err.message == f"身份证号码校验位错误：末位应为{with_check(first17)[-1]}"
    assert not is_valid(wrong_check(first17), today=TODAY)


@pytest.mark.parametrize("date", ["19990230", "19991301", "20230229", "00000101", "18991231"])
def test_it_rejects_a_birth_date_not_on_the_calendar_or_before_1900(date: str) -> None:
    err = error_of(with_check("110101" + date + "001"), today=TODAY)
    assert err.code == "birth_date"
    assert err.message.startswith(f"身份证号码中的出生日期无效：{date}")
    # The date is checked first, so a wrong check digit does not change the verdict.
    assert error_of(wrong_check("110101" + date + "001"), today=TODAY).code == "birth_date"


def test_it_rejects_a_birth_date_after_today() -> None:
    err = error_of(with_check("11010120240616001"), today=TODAY)
    assert err.code == "birth_future"
    assert err.message == "身份证号码中的出生日期晚于今天：20240616"


def test_it_accepts_a_birth_date_on_today_itself() -> None:
    assert parse(with_check("11010120240615001"), today=TODAY).birth_date == TODAY


def test_it_uses_the_real_date_when_today_is_not_injected(time_machine) -> None:
    time_machine.move_to(datetime.datetime(2024, 6, 15, 12, 0))
    assert is_valid(with_check("11010120240615001"))
    assert not is_valid(with_check("11010120240616001"))


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002",  # 17 digits
        "11010519491231002X1",  # 19 characters
        "1101051949123100201",  # 19 digits
        "1101051949A231002X",  # letter in the middle
        "11010519491231X020",  # X not at the end
        "110105 9491231002X",  # internal space
        "110105194912\u300031002X",  # internal ideographic space
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are digits to \d but not to us
        "1101051949123100",  # 16 digits
        "",
    ],
)
def test_it_rejects_anything_that_is_not_18_or_15_digits_as_format(raw: str) -> None:
    err = error_of(raw, today=TODAY)
    assert err.code == "format"
    assert "18位" in err.message


def test_a_15_digit_number_is_upgraded_with_19_and_a_fresh_check_digit() -> None:
    result = parse("622901700312003", today=TODAY)
    assert len(result.number) == 18
    assert result.number[6:8] == "19"
    assert result.number == with_check("622901" + "19" + "700312003")
    assert result.upgraded is True
    assert upgrade_15("622901700312003") == result.number
    assert parse(result.number, today=TODAY).upgraded is False


def test_a_15_digit_number_with_an_impossible_date_is_rejected() -> None:
    assert error_of("110101990230001", today=TODAY).code == "birth_date"


@pytest.mark.parametrize(("seq", "sex"), [("001", "M"), ("002", "F"), ("019", "M"), ("998", "F")])
def test_sex_follows_the_parity_of_the_17th_digit(seq: str, sex: str) -> None:
    number = with_check("11010119800101" + seq)
    assert sex_of(number) == sex
    assert parse(number, today=TODAY).sex == sex


def test_birth_date_is_read_from_characters_7_to_14() -> None:
    number = with_check("53092719900825004")
    assert birth_date_of(number) == datetime.date(1990, 8, 25)
    assert birth_date_of("530927900825004") == datetime.date(1990, 8, 25)


def test_age_counts_completed_years_only() -> None:
    number = with_check("53092719900825004")
    assert age_on(number, datetime.date(2050, 8, 24)) == 59
    assert age_on(number, datetime.date(2050, 8, 25)) == 60
    with pytest.raises(ValueError):
        age_on(number, datetime.date(1990, 8, 24))


@pytest.mark.parametrize(("on", "age"), [("2001-02-28", 0), ("2001-03-01", 1), ("2004-02-29", 4)])
def test_a_leap_day_baby_has_its_birthday_on_1_march_in_common_years(on: str, age: int) -> None:
    number = with_check("11010120000229001")
    assert age_on(number, datetime.date.fromisoformat(on)) == age
    assert age_on(datetime.date(2000, 2, 29), datetime.date.fromisoformat(on)) == age


def test_mask_keeps_area_and_last_four_and_hides_the_birth_date() -> None:
    number = with_check("53092719900825004")
    masked = mask(number)
    assert masked == number[:6] + "********" + number[-4:]
    assert len(masked) == 18
    assert "19900825" not in masked and "900825" not in masked
    assert parse(number, today=TODAY).masked == masked
    # A 15-digit number is masked in its 18-digit form, or the last 4 would include the day.
    assert mask("530927900825004") == masked


def test_birthplace_warning_is_silent_for_a_current_well_known_county() -> None:
    number = with_check("11010119800101001")
    if stdnum_verdict(number) is not True:
        pytest.skip("this stdnum does not know 110101")
    assert birthplace_warning(number) is None


@pytest.mark.parametrize("area", ["999999", "620099"], ids=["unknown", "province-only"])
def test_birthplace_warning_flags_an_unknown_area_in_chinese(area: str) -> None:
    number = with_check(area + "19800101001")
    assert is_valid(number, today=TODAY)
    assert birthplace_warning(number) == (
        f"出生地代码 {area} 未在行政区划代码表中找到（仅提示，不影响有效性）"
    )


@pytest.mark.parametrize(
    "raw",
    [with_check(area + "19800101001") for area in ["000000", "990000", "119999", "100000"]]
    + ["", "abc", "11", None, "１１０１０１", "11010119800101001Z"],
)
def test_birthplace_warning_never_raises_on_odd_input(raw: str | None) -> None:
    result = birthplace_warning(raw)
    assert result is None or "仅提示" in result


def test_the_error_carries_code_and_message_and_survives_pickling() -> None:
    err = InvalidIDNumber("format", "身份证号码格式错误")
    assert isinstance(err, ValueError)
    assert (err.code, str(err)) == ("format", err.message)
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert (copy.code, copy.message) == (err.code, err.message)


def test_parse_returns_a_frozen_record() -> None:
    number = with_check("62290119700312003")
    result = parse(number, today=TODAY)
    assert result == IDNumber(number, datetime.date(1970, 3, 12), "M", upgraded=False)
    with pytest.raises(AttributeError):
        result.number = "x"  # type: ignore[misc]
