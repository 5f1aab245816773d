"""A customer asks by mail where their ticket stands (进度, 查询, or just its number) and
gets its status, promised times, visit and public history back; nobody else can ask."""

import json
from email import message_from_bytes, policy

from test_mail import CUSTOMER, ingest, message


def outbox(desk):
    found = []
    for meta in sorted(desk.root.glob(".git/svcdesk/outbox/*.json")):
        entry = json.loads(meta.read_text(encoding="utf-8"))
        if entry["event"] == "progress":
            raw = meta.with_suffix(".eml").read_bytes()
            found.append((entry["to"]["email"],
                          message_from_bytes(raw, policy=policy.default).get_content()))
    return found


def made(run, desk):
    ingest(run, message("打印机卡纸，打到第二张就卡住", Message_ID="<m1@mail.example.cn>"))
    run("--as", "li.qiang", "comment", "1122-1", "-m", "已安排工程师明天上门检查")
    run("--as", "li.qiang", "comment", "1122-1", "--internal", "-m", "客户脾气急，注意沟通")


def test_a_reply_saying_jindu_gets_the_tickets_status_and_public_history(desk, run):
    made(run, desk)
    said = ingest(run, message("请问现在进度如何？", subject="Re: [SD-20261122-0001] 已受理",
                               Message_ID="<q1@mail.example.cn>"))
    assert "SD-20261122-0001  progress: asked for its progress" in said
    ((to, body),) = outbox(desk)
    assert to == CUSTOMER
    assert "目前状态为「派工中」" in body and "已安排工程师明天上门检查" in body
    assert "客户脾气急" not in body  # an internal note is never shown
    assert "预计在" in body or "承诺在" in body
    events = json.loads(run("show", "1122-1", "--format", "json").stdout)["events"]
    assert events[-1]["action"] == "progress" and events[-1]["by"] == CUSTOMER
    assert not any(e["action"] == "comment" and "进度" in (e.get("note") or "")
                   for e in events)


def test_the_ticket_number_sent_alone_to_the_mailbox_asks_the_same(desk, run):
    made(run, desk)
    said = ingest(run, message("SD-20261122-0001", subject="查询",
                               Message_ID="<q2@mail.example.cn>"))
    assert "progress" in said
    assert len(outbox(desk)) == 1


def test_someone_else_naming_the_number_learns_nothing_of_it(desk, run):
    made(run, desk)
    stranger = message("SD-20261122-0001 进度", subject="查询",
                       Message_ID="<q3@mail.example.cn>").replace(
        CUSTOMER.encode(), b"someone@else.example")
    said = ingest(run, stranger)
    assert "progress" not in said and outbox(desk) == []


def test_a_longer_reply_that_mentions_progress_is_a_comment_as_ever(desk, run):
    made(run, desk)
    text = "进度我知道了，另外打印机的纸盒二也有异响，麻烦工程师来时一起看看，谢谢"
    said = ingest(run, message(text, subject="Re: [SD-20261122-0001] 已受理",
                               Message_ID="<q4@mail.example.cn>"))
    assert "reply: the customer's reply recorded" in said and outbox(desk) == []



def test_asking_again_within_the_hour_is_a_reply_not_another_answer(desk, run):
    made(run, desk)
    ingest(run, message("进度", subject="Re: [SD-20261122-0001] 已受理",
                        Message_ID="<q5@mail.example.cn>"))
    again = ingest(run, message("进度？", subject="Re: [SD-20261122-0001] 已受理",
                                Message_ID="<q6@mail.example.cn>"))
    assert "reply: the customer's reply recorded" in again and len(outbox(desk)) == 1
