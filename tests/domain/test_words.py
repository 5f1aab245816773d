"""Words of Chinese and English text (domain.words): what ranking and counting use."""

from svcdesk.domain import report
from svcdesk.domain.words import distinct, words


def test_chinese_text_is_cut_into_dictionary_words_not_character_pairs():
    assert words("打印机卡纸，进纸后卡在定影器附近")[:3] == ["打印机", "卡纸", "进纸"]
    assert "定影器" in words("进纸后卡在定影器附近")  # the desk's trade words stay whole
    assert "印机" not in words("打印机卡纸")


def test_stop_words_punctuation_and_lone_characters_are_left_out():
    assert words("我的电脑无法开机了，怎么办？") == ["电脑", "开机"]
    assert words("The printer does not feed paper") == ["printer", "feed", "paper"]


def test_english_is_folded_and_model_names_stay_one_word():
    assert "x1-pro" in words("X1-Pro 笔记本屏幕闪烁")


def test_a_desk_word_is_kept_whole_once_given():
    assert "皮带轮组件" not in words("皮带轮组件磨损")
    assert "皮带轮组件" in words("皮带轮组件磨损", ("皮带轮组件",))


def test_distinct_keeps_the_first_occurrence_order():
    assert distinct("卡纸 卡纸 打印机 卡纸") == ["卡纸", "打印机"]


def test_recurring_terms_count_words_once_per_title():
    counts = report._terms(["打印机卡纸", "打印机又卡纸卡纸", "电脑蓝屏"])
    assert counts["打印机"] == 2 and counts["卡纸"] == 2 and counts["蓝屏"] == 1
    assert "印机" not in counts and "机卡" not in counts
