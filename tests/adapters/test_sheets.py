"""Cells of an export as the platform meant them (adapters.sheets)."""

from datetime import date, datetime

import pytest

from svcdesk.adapters import sheets


@pytest.mark.parametrize("cell, text", [
    (290011223344.0, "290011223344"),
    (1299.5, "1299.5"),
    (datetime(2026, 11, 20, 14, 33, 5), "2026-11-20 14:33:05"),
    (date(2026, 11, 20), "2026-11-20"),
    ('="3920417786512345678"', "3920417786512345678"),
    ("'13706751234", "13706751234"),
    ("201938475620011\t", "201938475620011"),
    (None, ""),
    (True, "是"),
    ("  退货  ", "退货"),
])
def test_a_cell_reads_as_the_text_the_platform_meant(cell, text):
    assert sheets._text(cell) == text


def test_a_csv_row_is_numbered_by_the_line_it_starts_on(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('单号,说明\n1,"两行\n的说明"\n\n2,一行\n', encoding="utf-8")
    table = sheets.read(path)
    assert table.headers == ["单号", "说明"]
    assert table.rows == [(2, ["1", "两行\n的说明"]), (5, ["2", "一行"])]
    assert table.read_as == "utf-8"
