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


def _zipped(path, members: dict):
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in members.items():
            book.writestr(name, data)
    return path


def test_a_workbook_that_would_inflate_past_the_bound_is_refused_before_it_is_read(
        tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_INFLATED", 1 << 20)
    path = _zipped(tmp_path / "export.xlsx", {"xl/worksheets/sheet1.xml": b" " * (2 << 20)})
    with pytest.raises(sheets.UsageError, match=r"export.xlsx: inflates to 2 MB, more than "
                                                 r"an import reads \(1 MB\)"):
        sheets.read(path)


def test_a_workbook_whose_entries_lie_about_their_size_is_refused_as_damaged(tmp_path):
    """A zip bomb that declares a small size for an entry that inflates to far more: the
    sizes pass, the inflating stops at the declared size, and the CRC tells the lie."""
    import struct
    import zipfile

    path = _zipped(tmp_path / "export.xlsx", {"xl/worksheets/sheet1.xml": b" " * (8 << 20)})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.infolist()[0]
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # the local header's size
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1000)  # and the central directory's
    path.write_bytes(bytes(data))
    with pytest.raises(sheets.UsageError, match="export.xlsx: not a workbook it can read"):
        sheets.read(path)
