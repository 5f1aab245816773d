"""Business calendars: working hours with breaks, China's holidays and make-up days (调休),
the desk's own days, and a clear warning for a year without official data."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from svcdesk.domain import worktime as W

SH = ZoneInfo("Asia/Shanghai")
HOURS = {"mon-fri": ["09:00-12:00", "13:00-18:00"]}


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def standard(**extra):
    days = {k: W.parse_days(v) for k, v in extra.items()}
    return W.Calendar("standard", SH, W.parse_week(HOURS), "cn", **days)


def test_friday_1730_plus_two_working_hours_is_monday_1030():
    assert standard().add(at("2026-11-20T17:30"), 120) == at("2026-11-23T10:30")


def test_the_lunch_break_does_not_count():
    calendar = standard()
    assert calendar.add(at("2026-11-23T11:30"), 60) == at("2026-11-23T13:30")
    assert calendar.minutes(at("2026-11-23T11:00"), at("2026-11-23T14:00")) == 120
    assert calendar.add(at("2026-11-23T12:20"), 10) == at("2026-11-23T13:10")


def test_a_request_before_national_day_is_due_after_the_holiday():
    # 2026: 1-7 October off; Sunday 20 September and Saturday 10 October are worked
    calendar = standard()
    assert calendar.add(at("2026-09-30T17:00"), 120) == at("2026-10-08T10:00")
    assert calendar.is_workday(date(2026, 10, 10)) and calendar.is_workday(date(2026, 9, 20))
    assert not calendar.is_workday(date(2026, 10, 5))
    # 8 October (Thu) + 9 October (Fri) + the make-up Saturday are three full days
    assert calendar.add(at("2026-10-08T09:00"), 3 * 480) == at("2026-10-10T18:00")
    assert calendar.add(at("2026-10-09T17:00"), 120) == at("2026-10-10T10:00")


def test_spring_festival_and_its_make_up_saturdays():
    # 2026: 15-23 February off; Saturdays 14 and 28 February are worked
    calendar = standard()
    assert calendar.add(at("2026-02-13T17:00"), 120) == at("2026-02-14T10:00")
    assert calendar.add(at("2026-02-14T17:30"), 60) == at("2026-02-24T09:30")
    assert calendar.is_workday(date(2026, 2, 28))
    assert calendar.minutes(at("2026-02-14T18:00"), at("2026-02-24T09:00")) == 0


def test_the_cn_base_agrees_with_the_holidays_package():
    holidays = pytest.importorskip("holidays")
    base = W.Base.load("cn")
    for year in range(2019, 2027):
        theirs = holidays.China(years=year)
        weekdays_off = {d for d in theirs if d.weekday() < 5}
        makeup = {date(int(m[3]), int(m[1]), int(m[2])) for name in theirs.values()
                  for m in re.finditer(r"substituted from (\d\d)/(\d\d)/(\d{4})", name)}
        assert {d for d in base.holidays if d.year == year and d.weekday() < 5} == \
            weekdays_off, year
        assert {d for d in base.workdays if d.year == year} == makeup, year


def test_a_year_without_official_data_is_counted_plainly_and_named():
    calendar = standard()
    assert calendar.add(at("2026-12-31T17:00"), 120) == at("2027-01-01T10:00")
    assert 2027 in calendar.uncovered


def test_the_desks_own_days_cover_a_year_and_override_the_base():
    calendar = standard(holidays=["2027-01-01", "2026-11-23"], workdays=["2026-11-28"])
    assert calendar.add(at("2026-12-31T17:00"), 120) == at("2027-01-04T10:00")
    assert not calendar.uncovered
    assert not calendar.is_workday(date(2026, 11, 23))  # a Monday the desk takes off
    assert calendar.spans(date(2026, 11, 28)) == ((540, 720), (780, 1080))  # a Saturday


def test_a_24x7_calendar_counts_every_minute():
    calendar = W.Calendar("7x24", SH, W.parse_week({"mon-sun": ["00:00-24:00"]}))
    assert calendar.add(at("2026-10-01T23:30"), 60) == at("2026-10-02T00:30")
    assert calendar.day_minutes == 1440


def test_daylight_saving_counts_real_minutes():
    berlin = ZoneInfo("Europe/Berlin")
    calendar = W.Calendar("berlin", berlin, W.parse_week({"mon-sun": ["00:00-24:00"]}))
    start = datetime(2026, 3, 29, 1, 0, tzinfo=berlin)  # clocks go 02:00 -> 03:00
    assert calendar.add(start, 120) == datetime(2026, 3, 29, 4, 0, tzinfo=berlin)


def test_durations_in_working_days_follow_the_calendar():
    assert standard().to_minutes(*W.parse_duration("1d")) == 480
    assert standard().to_minutes(*W.parse_duration("1.5h")) == 90
    assert W.duration_text(150) == "2小时30分" and W.duration_text(150, "en") == "2h 30m"


@pytest.mark.parametrize("text", ["9-12", "09:00-08:00", "09:00-25:00", "noon"])
def test_bad_hours_are_refused_with_what_is_wrong(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        W.parse_spans([text])


def test_adding_on_a_calendar_with_no_working_time_left_stops():
    calendar = W.Calendar("none", SH, W.parse_week({"mon": ["09:00-10:00"]}),
                          holidays=W.parse_days(["2026-01-01..2036-12-31"]))
    with pytest.raises(ValueError, match="no working time"):
        calendar.add(at("2026-01-01T00:00"), 60)
