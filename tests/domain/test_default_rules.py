"""The default rules.yaml on requests as customers really write them, all six types."""

from pathlib import Path

import pytest
import yaml

from svcdesk.domain import classify
from svcdesk.domain.rules import compile_rules

RULES = compile_rules(yaml.safe_load(
    (Path(__file__).parents[2] / "rules.yaml").read_text(encoding="utf-8")))

# (expected type, expected team, title, description)
REQUESTS = [
    ("fault", "hardware", "笔记本电脑无法开机", "按电源键没有任何反应，指示灯不亮，换了充电器也一样。"),
    ("fault", "hardware", "打印机频繁卡纸", "财务室的激光打印机打两三张就卡纸，提示纸盒2卡纸。"),
    ("fault", "hardware", "空调不制冷", "开机后室内机出风但是不冷，室外机风扇不转。"),
    ("fault", "hardware", "开机蓝屏", "开机进系统前蓝屏，错误代码0x0000007B，上周做过系统更新。"),
    ("fault", "hardware", "监控录像回放不了", "NVR 提示硬盘异常，最近三天的录像都无法回放。"),
    ("fault", "hardware", "空调显示E6", "室外机不启动，面板一直显示 E6，今天已经第三次了。"),
    ("fault", "hardware", "路由器每天掉线好几次", "分公司的企业路由器一天自动重启三四次，VPN 跟着断。"),
    ("fault", "hardware", "Laptop won't turn on", "My laptop stopped working after a power "
     "cut yesterday. No lights, no fan."),
    ("fault", "hardware", "Printer jams constantly", "The office printer jams on every second "
     "page since Monday."),
    ("fault", "software", "客户端App闪退", "手机上的设备管理App一打开就闪退，重装了也不行。"),
    ("fault", "software", "Cannot log in to the device portal", "Login fails with 'license "
     "expired' although we renewed last month."),
    ("inquiry", "service", "笔记本保修期多久", "去年12月在旗舰店买的笔记本，想问一下保修期是一年还是两年？"),
    ("inquiry", "service", "如何设置双面打印", "新买的打印机在 Windows 11 里找不到双面打印选项，驱动要怎么设置？"),
    ("inquiry", "service", "空调移机是否收费", "公司搬家，想咨询空调移机是否收费，移机后还保修吗？"),
    ("inquiry", "service", "路由器是否支持IPv6", "运营商要开通IPv6，想确认现在的固件是否支持，需不需要升级。"),
    ("inquiry", "service", "How do I reset the NVR admin password?", "We lost the admin "
     "password after a staff change. Is there a safe way to reset it?"),
    ("inquiry", "service", "Where can I download the user manual?", "I need the manual for "
     "the R-160 router in English."),
    ("inquiry", "service", "扫码枪兼容哪些收银系统", "我们准备换收银软件，想了解一下你们的扫码枪能不能兼容。"),
    ("complaint", "service", "上门工程师迟到两个小时", "约好上午9点上门，工程师11点多才到，打电话也没人接。"),
    ("complaint", "service", "同一问题报修三次仍未解决", "打印机卡纸一个月报修三次，每次换个零件就走，"
     "过几天又坏，要求换整机，否则我们要投诉到12315。"),
    ("complaint", "service", "客服态度恶劣", "打客服电话咨询发票的事，对方很不耐烦还直接挂电话，服务态度太差了。"),
    ("complaint", "service", "多次反映无人处理", "空调漏水的问题上周就反映了，到现在没人理。"),
    ("complaint", "service", "Unacceptable service", "We have been waiting for two weeks and "
     "no one responded to our emails. This is unacceptable."),
    ("complaint", "service", "对维修结果不满意", "维修后设备还是有异响，工程师说正常，我们很不满意，要求给个说法。"),
    ("complaint", "service", "Complaint about the technician", "The technician was rude to "
     "our staff and left the site dirty."),
    ("maintenance", "software", "申请固件升级", "R-160 路由器需要升级到最新固件，麻烦安排远程升级。"),
    ("maintenance", "software", "系统版本更新", "工控机的系统版本太旧，想更新到 V4.2，请安排。"),
    ("maintenance", "hardware", "空调年度保养", "办公室 12 台空调需要做年度保养和清洗，希望安排在周末。"),
    ("maintenance", "hardware", "新打印机安装调试", "采购的 5 台打印机已到货，需要上门安装调试并连网络。"),
    ("maintenance", "software", "Firmware upgrade for our NVRs", "Please schedule the "
     "firmware upgrade to V4.2.1 for our 3 recorders."),
    ("maintenance", "hardware", "Annual service visit", "Please book the annual service "
     "and calibration for our production scanners."),
    ("maintenance", "hardware", "设备巡检", "按合同本季度需要上门巡检一次机房设备。"),
    ("return", "aftersales", "七天无理由退货", "收到的扫码枪还没拆封，不想要了，申请七天无理由退货。"),
    ("return", "aftersales", "发错货了", "订单里买的是 LP-404，收到的是 LP-300，型号不对，要换货。"),
    ("return", "aftersales", "快递到货外箱破损", "今天收到的显示器外箱破损，屏幕有裂痕，要求换新。"),
    ("return", "aftersales", "Refund request", "I returned the router last week, when will "
     "I get my refund?"),
    ("return", "aftersales", "Wrong item delivered", "We ordered the BS-20 scanner but "
     "received a different model. Please arrange an exchange."),
    ("return", "aftersales", "质量问题退货", "新买三天的耳机左边没声音，属于质量问题，要求退货退款。"),
    ("invoice", "aftersales", "开具增值税专用发票", "订单 JD123456 需要开专票，抬头和税号如下。"),
    ("invoice", "aftersales", "发票抬头开错了", "上周的发票抬头少了两个字，麻烦红冲后重开。"),
    ("invoice", "aftersales", "补开电子发票", "去年的订单当时没要发票，现在报销需要补开电子发票。"),
    ("invoice", "aftersales", "Need a VAT invoice", "Please issue a VAT invoice for order "
     "JD998877 with our company's tax ID."),
    ("invoice", "aftersales", "Invoice amount is wrong", "The invoice shows 3,200 but we paid "
     "2,800 after the discount."),
]


@pytest.mark.parametrize("kind,team,title,description", REQUESTS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REQUESTS)])
def test_the_default_rules_classify_a_realistic_request(kind, team, title, description):
    decision = classify.decide(RULES, {"title": title, "description": description})
    assert (decision.values["type"], decision.values["team"]) == (kind, team), decision.trail
    assert decision.values["priority"] in RULES.priorities


def test_the_requests_cover_every_type_in_both_languages():
    assert {r[0] for r in REQUESTS} == set(RULES.types) and len(REQUESTS) >= 40
    for kind in RULES.types:
        titles = [r[2] for r in REQUESTS if r[0] == kind]
        assert any(t.isascii() for t in titles) and any(not t.isascii() for t in titles), kind


def test_the_default_rules_mark_danger_and_stopped_business_as_top_priority():
    fire = classify.decide(RULES, {"title": "空调外机冒烟", "description": "室外机有焦味还冒烟"})
    assert fire.values["impact"] == "safety" and fire.values["priority"] == "P1"
    assert "安全隐患" in fire.values["tags"]
    stopped = classify.decide(RULES, {"title": "工控机死机导致全线停产",
                                      "description": "产线工控机死机"})
    assert stopped.values["impact"] == "business" and stopped.values["priority"] == "P1"


def test_the_default_rules_give_a_return_its_reason():
    cases = {"不想要了，七天无理由退货": "no_reason", "发错货了，型号不对": "wrong_item",
             "到货外箱破损，屏幕摔坏": "damaged", "用了三天就坏了，质量问题要求退货": "defect"}
    for text, reason in cases.items():
        decision = classify.decide(RULES, {"title": text, "description": text})
        assert decision.values["type"] == "return", decision.trail
        assert decision.values["return_reason"] == reason, decision.trail


def test_the_default_rules_are_clean():
    assert RULES.findings() == []
