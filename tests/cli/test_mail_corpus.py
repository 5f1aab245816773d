"""Messages as Chinese customers' mail clients write them (tests/data/mail: Outlook with a
GBK body, an inline screenshot and an attached log; Foxmail labelling GBK text GB2312; QQ
Mail sending HTML only in GB18030), and the round trip: the acknowledgement goes out through
a real SMTP server (aiosmtpd), and the customer's reply to it, quoting it as Gmail does,
comes back onto the same ticket."""

import json
from email.mime.text import MIMEText
from pathlib import Path

import yaml

from conftest import git
from servers import smtp  # noqa: F401  (the fixture: a real SMTP server)

MAIL = Path(__file__).parents[1] / "data" / "mail"


def ticket(root, number="SD-20261122-0001") -> dict:
    path = root / f"tickets/{number[3:7]}/{number[7:9]}/{number}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def ingest(run, name: str) -> str:
    result = run("mail", "ingest", MAIL / name)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_outlook_gbk_with_an_inline_screenshot_and_a_log_takes_text_and_both_files(desk,
                                                                                 run):
    said = ingest(run, "outlook_gbk_inline_image.eml")
    assert "2 attachments stored" in said
    data = ticket(desk.root)
    assert data["title"] == "LP-404 打印机卡纸，附截图和日志"
    assert data["customer"] == {"name": "刘建国", "email": "liu.jianguo@example.cn"}
    assert data["description"].startswith("您好：\n\n我们的 LP-404 激光打印机打印到第二张就卡纸")
    assert "发件人" not in data["description"] and "旧的邮件" not in data["description"]
    assert [e.split("/", 1)[1] for e in data["attachments"]] == ["image001.png", "打印机日志.txt"]
    assert run("attachment", "1122-1", "打印机日志.txt").stdout == "E-05 paper jam at tray 2\n"
    assert git(desk.root, "status", "--porcelain") == ""


def test_foxmail_gbk_text_labelled_gb2312_keeps_its_rarer_characters(desk, run):
    ingest(run, "foxmail_gb2312_label_gbk_text.eml")
    data = ticket(desk.root)
    assert data["title"] == "扫描仪开机没反应（镕）"
    assert data["customer"]["name"] == "王喆"
    assert data["description"].startswith("你好，扫描仪 SC-20 开机没有反应，指示灯不亮（喆、镕）。")


def test_qq_mail_html_only_is_read_as_text_without_the_quoted_original(desk, run):
    ingest(run, "qqmail_html_only_gb18030.eml")
    data = ticket(desk.root)
    assert data["title"] == "空调不制冷" and data["customer"]["name"] == "李四"
    assert data["description"] == "机房空调不制冷，温度已经到 30 度。"


def test_the_acknowledgement_goes_out_and_the_reply_to_it_comes_back_to_its_ticket(
        desk, run, smtp):  # noqa: F811
    ingest(run, "foxmail_gb2312_label_gbk_text.eml")
    sent = run("notify", "send")
    assert sent.exit_code == 0, sent.stderr
    acks = [m for to, m in smtp.parsed() if to == ["wang.zhe@example.cn"]]
    assert len(acks) == 1
    ack = acks[0]
    assert "SD-20261122-0001" in ack["Subject"]
    reply = MIMEText("型号是 SC-20，序列号 SN123456。\n\n在 2026年11月22日 周日 09:30，"
                     f"{ack['From']} 写道：\n> {ack.get_content().splitlines()[0]}\n",
                     "plain", "utf-8")
    reply["From"] = "王喆 <wang.zhe@example.cn>"
    reply["To"] = ack["From"]
    reply["Subject"] = "Re: " + ack["Subject"].replace(" [SD-20261122-0001]", "")
    reply["In-Reply-To"] = ack["Message-ID"]  # the ticket found by the ack's id alone
    reply["References"] = ack["Message-ID"]
    reply["Message-ID"] = "<CAGmail-reply-1@mail.gmail.com>"
    result = run("mail", "ingest", input=reply.as_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("SD-20261122-0001  reply:")
    last = ticket(desk.root)["events"][-1]
    assert last["action"] == "comment" and last["by"] == "wang.zhe@example.cn"
    assert last["note"] == "型号是 SC-20，序列号 SN123456。"
    queued = json.loads(run("notify", "list", "--format", "json").stdout)
    assert not [n for n in queued if n["to"] == "wang.zhe@example.cn"]  # their own words
