"""Requests and replies by mail (`svcdesk mail ingest|import|quarantine|retry`): messages as
Chinese customers' clients write them (GBK labelled GB2312, RFC 2047 words split across a
subject, HTML only, quoted earlier mail) become tickets, comments and ratings; machine mail
and what cannot be read is kept whole, never dropped; nothing is taken twice."""

import base64
import json
import mailbox
import re
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import yaml

from conftest import commit_count, git

CUSTOMER = "zhang.san@example.cn"


def message(body: str, subject: str = "打印机卡纸，急！", charset: str = "utf-8",
            html: bool = False, **headers) -> bytes:
    """A message as a mail client writes it; headers given as Name_With_Underscores."""
    data = body.encode("gb18030" if charset in ("gb2312", "gbk") else charset)
    msg = Message()  # the body's bytes as the client encoded them, under its label
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = f'text/{"html" if html else "plain"}; charset="{charset}"'
    msg["Content-Transfer-Encoding"] = "base64"
    msg.set_payload(base64.encodebytes(data).decode("ascii"))
    msg["From"] = f"{Header('张三', 'gb2312').encode()} <{CUSTOMER}>"
    msg["To"] = "service@example.com"
    # a long Chinese subject, split by the encoder into several encoded words
    msg["Subject"] = Header(subject, "gbk", maxlinelen=30).encode()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg.as_bytes()


def ingest(run, raw: bytes, *args):
    result = run("mail", "ingest", *args, input=raw)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def ticket(root, number="SD-20261122-0001") -> dict:
    path = root / f"tickets/{number[3:7]}/{number[7:9]}/{number}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_a_gbk_request_labelled_gb2312_becomes_a_ticket_from_the_sender(desk, run):
    body = "你好，我的打印机一直卡纸，型号LP-404，打印第二张就卡住（喆）。\n\n谢谢\n-- \n张三"
    said = ingest(run, message(body, charset="gb2312", Message_ID="<m1@mail.example.cn>"))
    assert said.startswith("SD-20261122-0001  new:")
    data = ticket(desk.root)
    assert data["title"] == "打印机卡纸，急！" and data["channel"] == "email"
    assert data["customer"] == {"name": "张三", "email": CUSTOMER}
    assert data["description"] == "你好，我的打印机一直卡纸，型号LP-404，打印第二张就卡住（喆）。\n\n谢谢"
    assert data["type"] == "fault" and "incomplete" in data["tags"]  # no phone, no model
    assert data["events"][0]["by"] == CUSTOMER
    assert data["events"][0]["rule"] == "mail: m1@mail.example.cn"
    outbox = json.loads(run("notify", "list", "--format", "json").stdout)
    assert any(n["to"] == CUSTOMER and n["event"] == "created" for n in outbox)


def test_the_same_message_twice_is_taken_once(desk, run):
    raw = message("请问保修期多久？", subject="保修期", Message_ID="<m2@mail.example.cn>")
    ingest(run, raw)
    before = commit_count(desk.root)
    assert "duplicate: already taken into SD-20261122-0001" in ingest(run, raw)
    assert commit_count(desk.root) == before
    no_id = message("没有编号的邮件", subject="保修期")  # no Message-ID: by its bytes
    ingest(run, no_id)
    assert "duplicate" in ingest(run, no_id)


def test_a_reply_to_a_notice_is_the_customers_comment_and_resumes_a_waiting_ticket(
        desk, run, monkeypatch):
    ingest(run, message("打印机卡纸", Message_ID="<m3@mail.example.cn>"))
    run("--as", "li.qiang", "wait", "1122-1", "-m", "请提供打印机型号")
    ack = next(desk.root.glob(".git/svcdesk/outbox/*.eml")).read_bytes()
    answered = re.search(rb"Message-ID: (<[^>]+>)", ack)[1].decode()
    monkeypatch.setenv("SVCDESK_NOW", "2026-11-22T11:00:00+08:00")
    reply = message("型号是 LP-404。\n\n在 2026年11月22日 10:03，示例售后服务台 写道：\n> 您好",
                    subject="回复：您的工单已受理", In_Reply_To=answered,
                    Message_ID="<r1@mail.example.cn>")
    assert "reply: the customer's reply recorded; resumed" in ingest(run, reply)
    data = ticket(desk.root)
    comment = next(e for e in data["events"] if e["action"] == "comment")
    assert comment["note"] == "型号是 LP-404。" and comment["by"] == CUSTOMER
    assert comment["visibility"] == "public"
    assert data["status"] != "waiting"
    assert git(desk.root, "log", "-1", "--format=%an <%ae>").strip() == f"张三 <{CUSTOMER}>"


def test_a_reply_found_by_the_ticket_tag_in_its_subject(desk, run):
    ingest(run, message("打印机卡纸", Message_ID="<m4@mail.example.cn>"))
    reply = message("还是不行", subject="Re: [SD-20261122-0001] 打印机卡纸",
                    Message_ID="<r2@mail.example.cn>")
    assert ingest(run, reply).startswith("SD-20261122-0001  reply:")


def test_a_rating_in_reply_to_the_survey_is_recorded(desk, run):
    ingest(run, message("打印机卡纸", Message_ID="<m5@mail.example.cn>"))
    run("--as", "li.qiang", "resolve", "1122-1", "-m", "已更换搓纸轮")
    run("close", "1122-1")
    rating = message("★★★★\n\n发自我的iPhone", subject="Re: [SD-20261122-0001] 请评价",
                     Message_ID="<r3@mail.example.cn>")
    assert "rating: rated 4" in ingest(run, rating)
    assert ticket(desk.root)["csat"] == 4


def test_machine_mail_and_our_own_notices_make_no_ticket_and_are_kept(desk, run):
    samples = {
        "auto-reply": message("我在休假", subject="自动回复: 打印机",
                              Auto_Submitted="auto-replied", Message_ID="<a1@x.cn>"),
        "out of office": message("Out of office", subject="hello", X_Autoreply="yes",
                                 Message_ID="<a2@x.cn>"),
        "list": message("newsletter", subject="news", List_Id="<news.example.cn>",
                        Message_ID="<a3@x.cn>"),
        "ours": message("您好", subject="[SD-20261122-0009] 已受理",
                        X_Svcdesk_Notice="x/ack/zhang", Message_ID="<a4@x.cn>"),
    }
    before = commit_count(desk.root)
    for raw in samples.values():
        assert "kept: kept aside as" in ingest(run, raw)
    assert commit_count(desk.root) == before and not list(desk.root.glob("tickets/*/*/*.yaml"))
    kept = json.loads(run("mail", "quarantine", "--format", "json").stdout)
    assert len(kept) == 4
    assert any("Auto-Submitted" in k["reason"] for k in kept)
    assert any("own notices" in k["reason"] for k in kept)
    assert run("notify", "list").stdout.strip() == "The outbox is empty."


def test_an_unreadable_message_is_kept_whole_and_can_be_taken_again(desk, run):
    raw = b"Subject: =?gb2312?B?tPK=?=\r\n\r\nno sender at all\r\n"
    said = ingest(run, raw)
    assert "kept: kept aside as" in said and "no sender address" in said
    entry = json.loads(run("mail", "quarantine", "--format", "json").stdout)[0]
    assert open(entry["file"], "rb").read() == raw  # whole, byte for byte
    again = run("mail", "retry", entry["name"])
    assert again.exit_code == 0 and "kept" in again.stdout  # still unreadable: kept again
    assert len(json.loads(run("mail", "quarantine", "--format", "json").stdout)) == 1
    assert run("mail", "retry", "../../etc").exit_code == 2


def test_an_html_only_message_is_read_as_text(desk, run):
    html = "<html><body><p>打印机<b>卡纸</b>了</p><ul><li>型号 LP-404</li></ul></body></html>"
    ingest(run, message(html, html=True, Message_ID="<h1@mail.example.cn>"))
    text = ticket(desk.root)["description"]
    assert "打印机卡纸了" in text and "LP-404" in text and "<" not in text


def test_a_maildir_or_an_mbox_is_imported_once(desk, run, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir")
    folder = mailbox.mbox(tmp_path / "service.mbox")
    for n in range(3):
        box.add(message(f"问题 {n}", subject=f"咨询 {n}", Message_ID=f"<d{n}@x.cn>"))
        folder.add(message(f"问题 {n}", subject=f"咨询 {n}", Message_ID=f"<b{n}@x.cn>"))
    folder.flush()
    first = run("mail", "import", tmp_path / "Maildir")
    assert first.exit_code == 0 and first.stdout.count(" new:") == 3
    assert "3 new" in first.stderr
    assert run("mail", "import", tmp_path / "service.mbox").stdout.count(" new:") == 3
    before = commit_count(desk.root)
    again = run("mail", "import", tmp_path / "Maildir")
    assert again.exit_code == 0 and again.stdout == "" and "3 duplicate" in again.stderr
    assert commit_count(desk.root) == before
    assert run("mail", "import", tmp_path / "nothing").exit_code == 2


def test_an_archive_is_taken_in_one_commit_its_replies_reaching_tickets_it_made(
        desk, run, tmp_path):
    folder = mailbox.mbox(tmp_path / "archive.mbox")
    folder.add(message("打印机卡纸", subject="打印机卡纸", Message_ID="<a1@x.cn>"))
    folder.add(message("请问保修期多久？", subject="保修期", Message_ID="<a2@x.cn>").replace(
        CUSTOMER.encode(), b"li.si@example.cn"))
    folder.add(message("照片见附件", subject="回复：[SD-20261122-0001] 打印机卡纸",
                       Message_ID="<a3@x.cn>"))
    folder.add(message("打印机卡纸", subject="打印机卡纸", Message_ID="<a1@x.cn>"))  # again
    folder.add(message("我不在办公室", subject="自动回复", Message_ID="<a4@x.cn>",
                       Auto_Submitted="auto-replied"))
    folder.flush()
    before = commit_count(desk.root)
    result = run("mail", "import", tmp_path / "archive.mbox")
    assert result.exit_code == 0, result.stderr
    assert commit_count(desk.root) == before + 1
    assert git(desk.root, "log", "-1", "--format=%s").strip() == "mail: 3 messages taken"
    first = ticket(desk.root)
    assert [e["action"] for e in first["events"]][-1] == "comment"
    assert first["events"][-1]["note"] == "照片见附件"
    assert ticket(desk.root, "SD-20261122-0002")["customer"]["email"] == "li.si@example.cn"
    assert not (desk.root / "tickets/2026/11/SD-20261122-0003.yaml").exists()
    assert "2 new, 1 reply, 1 duplicate, 1 kept" in result.stderr
    assert git(desk.root, "status", "--porcelain") == ""


def test_a_message_the_desk_refuses_is_kept_aside_and_the_rest_of_its_batch_is_taken(
        desk, run, tmp_path):
    ingest(run, message("打印机卡纸", Message_ID="<k0@x.cn>"))
    path = desk.root / "tickets/2026/11/SD-20261122-0001.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# 手工修改，未提交\n", encoding="utf-8")
    folder = mailbox.mbox(tmp_path / "batch.mbox")
    folder.add(message("补充说明", subject="回复：[SD-20261122-0001] 打印机卡纸",
                       Message_ID="<k1@x.cn>"))
    folder.add(message("请问保修期多久？", subject="保修期", Message_ID="<k2@x.cn>"))
    folder.flush()
    result = run("mail", "import", tmp_path / "batch.mbox")
    assert result.exit_code == 0, result.stderr
    assert "kept aside" in result.stdout and "UncommittedChangesError" in result.stdout
    assert ticket(desk.root, "SD-20261122-0002")["title"] == "保修期"
    kept = json.loads(run("mail", "quarantine", "--format", "json").stdout)
    assert len(kept) == 1 and "SD-20261122-0001.yaml" in kept[0]["reason"]
    assert git(desk.root, "log", "-1", "--format=%ae").strip() == CUSTOMER  # one taken


def test_a_multipart_message_from_outlook_takes_its_plain_text(desk, run):
    msg = MIMEMultipart("alternative")
    msg["From"] = f"Li Lei <{CUSTOMER}>"
    msg["Subject"] = "Printer jams"
    msg["Message-ID"] = "<o1@outlook.example.com>"
    msg.attach(MIMEText("The printer jams on page 2.", "plain", "utf-8"))
    msg.attach(MIMEText("<p>The printer <b>jams</b> on page 2.</p>", "html", "utf-8"))
    ingest(run, msg.as_bytes())
    data = ticket(desk.root)
    assert data["description"] == "The printer jams on page 2."
    assert data["customer"]["name"] == "Li Lei"


def test_a_mail_servers_pipe_needs_no_agent_the_message_acts_as_its_sender(desk, run,
                                                                           monkeypatch):
    monkeypatch.delenv("SVCDESK_AGENT")
    ingest(run, message("请问保修期多久？", subject="保修期", Message_ID="<p1@x.cn>"))
    assert git(desk.root, "log", "-1", "--format=%ae").strip() == CUSTOMER


def test_raw_8bit_headers_in_gbk_or_utf8_are_read_as_written(desk, run):
    for n, codec in enumerate(("gbk", "utf-8")):
        raw = ("From: 李四 <li.si@example.cn>\r\nSubject: 空调不制冷" + str(n) + "\r\n"
               f"Message-ID: <h8{n}@x.cn>\r\nContent-Type: text/plain\r\n\r\n"
               "机房温度已经升到30度\r\n").encode(codec)
        ingest(run, raw)
        data = ticket(desk.root, f"SD-20261122-000{n + 1}")
        assert data["title"] == f"空调不制冷{n}" and data["customer"]["name"] == "李四"
        assert data["description"] == "机房温度已经升到30度"


def test_a_request_missing_details_is_acknowledged_asking_for_them(desk, run):
    ingest(run, message("打印机卡纸，第二张就卡", Message_ID="<i1@x.cn>"))
    entry = next(n for n in json.loads(run("notify", "list", "--format", "json").stdout)
                 if n["to"] == CUSTOMER)
    text = open(entry["file"], "rb").read()
    from email import message_from_bytes, policy

    body = message_from_bytes(text, policy=policy.default).get_body().get_content()
    assert "请直接回复本邮件补充以下信息" in body
    assert "联系电话" in body and "产品型号" in body and "购买日期" in body
    assert "客户姓名" not in body  # the sender's name is known


def test_a_reply_saying_it_is_not_fixed_reopens_a_resolved_ticket(desk, run):
    ingest(run, message("打印机卡纸", Message_ID="<n1@x.cn>"))
    run("--as", "li.qiang", "resolve", "1122-1", "-m", "已更换搓纸轮")
    reply = message("还是不行，今天又卡了三次", subject="Re: [SD-20261122-0001] 已解决",
                    Message_ID="<n2@x.cn>")
    assert "reopened (not fixed)" in ingest(run, reply)
    data = ticket(desk.root)
    assert data["status"] == "reopened" and data["events"][-1]["rule"] == "mail.reopen_when"
    thanks = message("谢谢，好了", subject="Re: [SD-20261122-0001] 已解决",
                     Message_ID="<n3@x.cn>")
    run("--as", "li.qiang", "resolve", "1122-1", "-m", "再次处理")
    assert "reopened" not in ingest(run, thanks)


def test_a_sender_opening_too_many_tickets_an_hour_is_kept_for_a_person(desk, run):
    for n in range(10):
        assert " new:" in ingest(run, message(f"第{n}封", subject=f"问题{n}",
                                              Message_ID=f"<f{n}@x.cn>"))
    eleventh = ingest(run, message("第11封", subject="问题11", Message_ID="<f11@x.cn>"))
    assert "kept" in eleventh and "most_per_hour" in eleventh
    assert len(list(desk.root.glob("tickets/*/*/*.yaml"))) == 10


def with_files(text: str, files: list, subject: str = "打印机卡纸，附照片",
               **headers) -> bytes:
    """A message with attached files [(name, bytes)], named as RFC 2231 says (Outlook)."""
    from email.mime.application import MIMEApplication

    msg = MIMEMultipart()
    msg["From"] = f"张三 <{CUSTOMER}>"
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.attach(MIMEText(text, "plain", "utf-8"))
    for name, data in files:
        part = MIMEApplication(data, "octet-stream")
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        msg.attach(part)
    return msg.as_bytes()


def test_a_requests_attachments_are_stored_with_its_ticket_and_come_back_whole(desk, run):
    photo, log = b"\xff\xd8\xff" + bytes(range(256)) * 40, "错误代码 E-05\n".encode("gbk")
    said = ingest(run, with_files("照片见附件", [("卡纸.jpg", photo), ("../../日志.txt", log)],
                                  Message_ID="<att1@x.cn>"))
    assert "new ticket" in said and "2 attachments stored" in said
    data = ticket(desk.root)
    names = [entry.split("/", 1)[1] for entry in data["attachments"]]
    assert names == ["卡纸.jpg", "日志.txt"]  # the path in the name does not leave the folder
    assert run("attachment", "1122-1", "卡纸.jpg").stdout_bytes == photo
    assert run("attachment", "1122-1", "日志.txt").stdout_bytes == log
    assert "卡纸.jpg" in run("show", "1122-1").stdout
    assert json.loads(run("mail", "quarantine", "--format", "json").stdout) == []
    stored = sorted(p.relative_to(desk.root).as_posix()
                    for p in desk.root.glob("attachments/**/*") if p.is_file())
    uid = data["uid"]
    assert stored == [f"attachments/2026/11/{uid}/{entry}" for entry in data["attachments"]]
    assert git(desk.root, "status", "--porcelain") == ""


def test_a_replys_attachments_join_its_ticket_and_a_file_sent_twice_is_stored_once(
        desk, run):
    logo = b"\x89PNG signature logo"
    ingest(run, with_files("打印机卡纸", [("image001.png", logo)], Message_ID="<r0@x.cn>"))
    said = ingest(run, with_files("补充照片", [("image001.png", logo), ("卡纸2.jpg", b"jpeg 2")],
                                  subject="Re: [SD-20261122-0001] 打印机卡纸",
                                  Message_ID="<r1@x.cn>"))
    assert "reply" in said and "1 attachment stored" in said
    assert [e.split("/", 1)[1] for e in ticket(desk.root)["attachments"]] == [
        "image001.png", "卡纸2.jpg"]


def test_an_attachment_past_the_limit_is_kept_with_its_message_and_the_rest_is_taken(
        desk, run):
    rules = (desk.root / "rules.yaml").read_text(encoding="utf-8")
    (desk.root / "rules.yaml").write_text(rules + "\nattachments:\n  max_bytes: 1000\n",
                                          encoding="utf-8")
    raw = with_files("视频见附件", [("故障视频.mp4", b"v" * 5000), ("说明.txt", b"ok")],
                     Message_ID="<big@x.cn>")
    said = ingest(run, raw)
    assert "new ticket" in said and "kept whole as" in said
    assert [e.split("/", 1)[1] for e in ticket(desk.root)["attachments"]] == ["说明.txt"]
    kept = json.loads(run("mail", "quarantine", "--format", "json").stdout)
    assert len(kept) == 1 and "故障视频.mp4" in kept[0]["reason"]
    assert "max_bytes" in kept[0]["reason"]
    assert open(kept[0]["file"], "rb").read() == raw


def test_a_message_too_large_to_read_is_refused_and_left_with_the_mail_server(desk, run,
                                                                            monkeypatch):
    from svcdesk.app import mailin

    monkeypatch.setattr(mailin, "MOST_BYTES", 1000)
    result = run("mail", "ingest", input=message("大" * 2000, Message_ID="<huge@x.cn>"))
    assert result.exit_code == 2 and "more than" in result.stderr
    assert not list(desk.root.glob("tickets/*/*/*.yaml"))


def test_a_reply_from_another_address_than_the_customers_changes_nothing(desk, run):
    ingest(run, message("打印机卡纸", Message_ID="<o1@mail.example.cn>"))
    run("--as", "li.qiang", "resolve", "1122-1", "-m", "已更换搓纸轮")
    ack = next(desk.root.glob(".git/svcdesk/outbox/*.eml")).read_bytes()
    answered = re.search(rb"Message-ID: (<[^>]+>)", ack)[1].decode()
    forged = message("还是不行，问题依旧", subject="Re: [SD-20261122-0001] 已处理完成",
                     In_Reply_To=answered, Message_ID="<o2@evil.example>").replace(
        CUSTOMER.encode(), b"mallory@evil.example")
    said = ingest(run, forged)
    assert "kept as an internal note: not the ticket's customer's address" in said
    data = ticket(desk.root)
    assert data["status"] == "resolved"  # not reopened by a stranger
    note = data["events"][-1]
    assert note["visibility"] == "internal" and "mallory@evil.example" in note["note"]
