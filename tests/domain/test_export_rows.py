"""What a row of a platform's export says (domain.imports), and which layout a header row
is. No disk."""

import pytest

from svcdesk.domain import imports

LAYOUTS = imports.layouts({
    "shop": {"key": "退款编号", "columns": {"title": ["原因", "商品"], "description": ["说明", "原因"],
                                       "product.purchased": "付款时间", "expected": "类型"},
             "values": {"expected": {"仅退款": "refund", "换货": "replace"}},
             "set": {"channel": "ecommerce", "tags": ["店铺"]}},
    "other": {"key": "单号", "columns": {"title": "标题"}},
})
KINDS = {"title": "string", "description": "text", "product.purchased": "date",
         "expected": "enum", "channel": "enum", "tags": "list"}
HEADERS = ["退款编号", "原因", "商品", "说明", "付款时间", "类型"]


def test_a_header_row_is_the_layout_whose_columns_it_has():
    assert imports.detect(LAYOUTS, HEADERS).name == "shop"
    assert imports.detect(LAYOUTS, ["单号", "标题", "别的"]).name == "other"
    assert imports.detect(LAYOUTS, ["编号", "标题"]) is None
    partial = imports.detect(LAYOUTS, ["退款编号", "原因"])
    assert partial.name == "shop"
    assert imports.missing(partial, ["退款编号", "原因"]) == ["商品", "说明", "付款时间", "类型"]


def test_a_row_joins_its_columns_maps_its_words_and_takes_the_day_of_a_time():
    key, values = imports.row_values(LAYOUTS["shop"], KINDS, HEADERS,
                                     ["T1", "质量问题", "打印机", "卡纸", "2026/5/20 14:33", "换货"])
    assert key == "T1"
    assert values == {"channel": "ecommerce", "tags": ["店铺"], "title": "质量问题 · 打印机",
                      "description": "说明：卡纸\n原因：质量问题",
                      "product.purchased": "2026-05-20", "expected": "replace"}


def test_an_empty_column_is_left_out_and_one_column_of_text_is_not_labelled():
    _, values = imports.row_values(LAYOUTS["shop"], KINDS, HEADERS,
                                   ["T2", "", "打印机", "卡纸", "", "仅退款"])
    assert values["title"] == "打印机" and values["description"] == "卡纸"
    assert "product.purchased" not in values


@pytest.mark.parametrize("cells, reason", [
    (["", "质量问题", "打印机", "", "", "换货"], "no 退款编号"),
    (["T3", "质量问题", "打印机", "", "", "维修"], "类型: '维修' is not in imports.shop.values"),
])
def test_a_row_without_its_key_or_with_an_unknown_word_is_refused_saying_why(cells, reason):
    with pytest.raises(imports.RowError, match=reason):
        imports.row_values(LAYOUTS["shop"], KINDS, HEADERS, cells)


def test_a_short_row_reads_its_missing_cells_as_empty():
    key, values = imports.row_values(LAYOUTS["shop"], KINDS, HEADERS, ["T4", "质量问题"])
    assert key == "T4" and values["title"] == "质量问题"
