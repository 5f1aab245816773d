"""What a customer's mail means (domain.mailtext): the new words without the quoted mail and
the signature, the ticket a reply names, a rating. Text in, text out."""

import pytest

from svcdesk.domain import mailtext


@pytest.mark.parametrize("quote", [
    "-----Original Message-----\nFrom: service@example.com",          # Outlook
    "------------------ 原始邮件 ------------------\n发件人: 示例售后",  # QQ Mail
    "发件人：示例售后服务台 <service@example.com>\n发送时间：2026年12月7日",  # Foxmail
    "在 2026年12月7日 10:00，示例售后服务台 写道：\n> 您好",            # Apple Mail, zh
    "On Mon, Dec 7, 2026 at 10:00 AM Service <service@example.com> wrote:\n> Hi",  # Gmail
    "> 您好，您的工单已受理\n> 工单号 SD-20261207-0001",                 # a bare quote
    "-- \n张三\n杭州云帆科技",                                         # a signature
    "发自我的iPhone",
])
def test_the_new_words_stop_where_earlier_mail_or_a_signature_begins(quote):
    text = f"型号是 LP-404，电话 13800000000。\n\n{quote}\n更早的内容"
    assert mailtext.new_text(text) == "型号是 LP-404，电话 13800000000。"


def test_a_subject_loses_its_reply_prefixes_and_the_ticket_tag():
    assert mailtext.plain_subject("回复: Re: [SD-20261207-0001] 打印机卡纸",
                                  "SD-20261207-0001") == "打印机卡纸"
    assert mailtext.named_numbers("答复：[sd-20261207-0003] 打印机", "SD") == [
        "sd-20261207-0003"]


def test_a_reply_names_its_ticket_by_the_uid_in_the_message_ids_it_answers():
    replies = ["e097eba082f2122272ab.01m973nd804gkdz98awq2e0775@example.com",
               "01m973nd804gkdz98awq2e0775@example.com", "other@mail.example.cn"]
    assert mailtext.named_uids(replies) == ["01M973ND804GKDZ98AWQ2E0775"]


@pytest.mark.parametrize("text, score", [
    ("5", 5), ("4分", 4), ("★★★", 3), ("★★☆☆☆", 2), ("非常满意！", 5), ("满意", 4),
    ("不满意", 2), ("Very satisfied.", 5), ("3\n\n在 2026年12月7日 写道：\n> 请回复1-5", 3),
    ("5 个打印机都坏了", None), ("谢谢", None), ("", None), ("6", None),
])
def test_a_rating_is_a_reply_that_says_only_a_score(text, score):
    assert mailtext.rating(text) == score
