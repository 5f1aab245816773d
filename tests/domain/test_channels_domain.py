"""What a channel may carry and how it is declared: SMS parts as carriers count them, each
platform's length limit, and declarations refused for what they lack or leak."""

import pytest

from svcdesk.domain import channels as CH


@pytest.mark.parametrize("text, parts", [
    ("您" * 70, 1), ("您" * 71, 2), ("您" * 134, 2), ("您" * 135, 3),
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("Ticket SD-1 已受理" + "x" * 60, 2),  # one Chinese character makes it UCS-2
])
def test_an_sms_takes_as_many_parts_as_carriers_count(text, parts):
    assert CH.sms_parts(text) == parts


def test_a_message_past_its_platforms_limit_is_refused_naming_channel_and_limit():
    wecom = CH.compile_channel("team", {"kind": "wecom", "url_env": "WECOM_URL"})
    CH.check_length(wecom, "t", "字" * 1363)  # "### t\n" and 4,089 bytes
    with pytest.raises(CH.MessageTooLongError, match=r"企业微信 channel team: the message is "
                                                r"4,098 bytes; 企业微信 takes at most 4,096"):
        CH.check_length(wecom, "t", "字" * 1364)
    sms = CH.compile_channel("sms", {"kind": "sms", "gateway": "http", "url_env": "U",
                                     "request": {"body": "{{ text }}"}, "parts": 2})
    CH.check_length(sms, "", "您" * 134)
    with pytest.raises(CH.MessageTooLongError, match="135 characters, 3 SMS; the channel sends "
                                                "at most 2"):
        CH.check_length(sms, "", "您" * 135)


@pytest.mark.parametrize("spec, complaint", [
    ({"kind": "dingtalk"}, "needs url_env"),
    ({"kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=x"},
     "holds a secret"),
    ({"kind": "webhook", "url": "https://user:pw@hooks.example.com/x"}, "holds a secret"),
    ({"kind": "webhook", "url": "ftp://hooks.example.com/x"}, r"not an http\(s\) address"),
    ({"kind": "wecom", "url_env": "U", "secret_env": "S"}, "sign nothing"),
    ({"kind": "feishu", "url_env": "U", "format": "markdown"}, "card or text"),
    ({"kind": "sms", "gateway": "aliyun", "key_id_env": "I"}, "needs secret_env"),
    ({"kind": "webhook", "url_env": "U", "gateway": "http"}, "for sms channels"),
])
def test_a_channel_declaration_is_refused_for_what_it_lacks_or_leaks(spec, complaint):
    with pytest.raises(CH.ChannelSpecError, match=complaint):
        CH.compile_channel("c", spec)


def test_each_platform_gets_the_body_its_documentation_shows():
    def body(kind, **extra):
        return CH.message(CH.compile_channel("c", {"kind": kind, "url_env": "U", **extra}),
                          "标题", "正文")

    assert body("dingtalk") == {"msgtype": "markdown",
                                "markdown": {"title": "标题", "text": "### 标题\n正文"}}
    assert body("wecom") == {"msgtype": "markdown", "markdown": {"content": "### 标题\n正文"}}
    assert body("wecom", format="text") == {"msgtype": "text",
                                            "text": {"content": "标题\n正文"}}
    card = body("feishu")["card"]
    assert card["header"]["title"]["content"] == "标题"
    assert card["elements"] == [{"tag": "markdown", "content": "正文"}]


def test_a_robots_answer_is_read_as_its_platform_means_it():
    ding = CH.compile_channel("c", {"kind": "dingtalk", "url_env": "U"})
    assert CH.answer_error(ding, 200, b'{"errcode":0,"errmsg":"ok"}') is None
    assert "310000" in CH.answer_error(ding, 200, b'{"errcode":310000,"errmsg":"sign"}')
    assert CH.answer_error(ding, 502, b"") == "answered HTTP 502"
    feishu = CH.compile_channel("c", {"kind": "feishu", "url_env": "U"})
    assert CH.answer_error(feishu, 200, b'{"code":0,"msg":"success"}') is None
    assert "19021" in CH.answer_error(feishu, 200, b'{"code":19021,"msg":"sign"}')
