"""The tables people read: svcdesk lays them out itself (for speed), exactly as tabulate's
"simple" and "plain" layouts would, Chinese and emoji taking two columns. Hypothesis holds
the two equal for any cells."""

import tabulate
from hypothesis import given, settings
from hypothesis import strategies as st

from svcdesk.cli.output import table

CHARS = st.sampled_from(list("ab Z09-_:.，。工单号处理中客户卡纸 ") + ["😀", "ｱ", "é"])
CELL = st.one_of(st.none(), st.integers(-99, 10**6),
                 st.text(CHARS, max_size=12),
                 st.text(CHARS, max_size=12).map(lambda t: f"\x1b[1m{t}\x1b[0m"))


def reference(rows, headers) -> str:
    tabulate.PRESERVE_WHITESPACE = False
    tabulate.WIDE_CHARS_MODE = True
    return tabulate.tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain",
                             disable_numparse=True)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(st.lists(CELL, min_size=n, max_size=n), max_size=6),
    st.one_of(st.just([]), st.lists(st.text(CHARS, min_size=1, max_size=8).map(
        str.strip).filter(bool), min_size=n, max_size=n)))))
def test_a_table_is_laid_out_as_tabulate_would_lay_it_out(case):
    rows, headers = case
    assert table(rows, headers) == reference(rows, headers)


def test_chinese_columns_line_up_by_display_width():
    lines = table([["SD-1", "处理中", "打印机卡纸"], ["SD-22", "新", "ok"]],
                  ["工单号", "状态", "标题"]).splitlines()
    assert lines[2] == "SD-1      处理中  打印机卡纸"
    assert lines[3] == "SD-22     新      ok"
