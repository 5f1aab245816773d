"""A sample desk's worth of realistic after-sales tickets with believable histories."""

import random
from datetime import datetime, timedelta

from svcdesk.base import fields as F
from svcdesk.base import model
from svcdesk.base.identity import fixed_ulid, format_number, new_ulid
from svcdesk.domain import fees, records

# (name, company, phone, email, address, region, tier)
CUSTOMERS = (
    ("张伟", "杭州云帆科技有限公司", "13857112345", "zhangwei@yunfan.example.cn",
     "浙江省杭州市西湖区文三路 90 号", "杭州", "vip"),
    ("李娜", "宁波港联物流有限公司", "13967823456", "lina@ganglian.example.cn",
     "浙江省宁波市北仑区明州路 18 号", "宁波", "key"),
    ("王磊", None, "15105716789", "wanglei88@example.com", "杭州市拱墅区莫干山路 66 号",
     "杭州", "standard"),
    ("陈晓燕", "上海申通会计师事务所", "13601887766", "chenxy@shentong-cpa.example.cn",
     "上海市静安区南京西路 1266 号 21 楼", "上海", "vip"),
    ("刘建国", "绍兴柯桥纺织印染厂", "13706751234", "ljg@kqdye.example.cn",
     "浙江省绍兴市柯桥区华舍街道 8 号", "绍兴", "standard"),
    ("赵雪", None, "18868812345", "zhaoxue@example.com", "苏州市工业园区星湖街 328 号",
     "苏州", "standard"),
    ("孙浩然", "苏州恒达精密机械有限公司", "0512-62881234", "sunhr@hengda.example.cn",
     "江苏省苏州市吴中区木渎镇金枫路 52 号", "苏州", "key"),
    ("周敏", "杭州市第三人民医院", "0571-87651234", "it@hz3h.example.cn",
     "浙江省杭州市上城区解放路 38 号", "杭州", "key"),
    ("Emily Carter", "Harbor Trading Ltd.", "+852 2345 6789", "emily.carter@example.com",
     "18 Harbour Road, Wan Chai, Hong Kong", "香港", "vip"),
    ("Daniel Müller", "Rhein Technik GmbH", "+49 30 1234567", "d.mueller@example.de",
     "Friedrichstraße 100, 10117 Berlin", "海外", "standard"),
    ("吴婷", None, "13588001122", "wuting@example.com", "宁波市鄞州区天童南路 588 号",
     "宁波", "standard"),
    ("郑志强", "上海浦江物业管理有限公司", "13916654321", "zzq@pujiang-wy.example.cn",
     "上海市浦东新区张杨路 500 号", "上海", "standard"),
)

# (part number, name, compatible models, unit cost, price, minimum, stock per warehouse)
PARTS = (
    ("RM1-2337", "定影组件", ["LP-404 激光打印机"], "86.50", "180.00", 3,
     {"main": 6, "suzhou": 2}),
    ("RL1-1442", "搓纸轮", ["LP-404 激光打印机"], "12.00", "35.00", 10, {"main": 12}),
    ("X1-MB-16", "主板（16G）", ["X1-Pro 笔记本"], "1320.00", "1980.00", 2, {"main": 3}),
    ("KF35-CAP", "压缩机启动电容", ["KF-35 变频空调"], "18.00", "60.00", 5,
     {"main": 8, "suzhou": 4}),
)
FAULT_PARTS = {"LP-404 激光打印机": "RM1-2337", "X1-Pro 笔记本": "X1-MB-16",
               "KF-35 变频空调": "KF35-CAP"}  # what a fault of the model takes
USAGE = ("办公室使用，每天开机约 8 小时，室温 24-28℃。", "车间环境，粉尘较多，24 小时运行。",
         "家用，偶尔使用，放在靠窗位置。", "机房内使用，恒温 22℃，有 UPS 供电。")

# (type, title, description, model, category, expected, impact, urgency, channel, extra)
REQUESTS = (
    ("fault", "笔记本电脑无法开机", "按电源键无任何反应，电源指示灯不亮，换了插座和适配器也一样。"
     "昨天下午还能正常使用，今天早上就开不了机，里面有月底要交的报表。",
     "X1-Pro 笔记本", "laptop", "repair", "single", "high", "phone", {"frequency": "always"}),
    ("fault", "开机蓝屏，错误代码 0x0000007B", "开机后进入系统前蓝屏，错误代码 0x0000007B，"
     "每次开机都出现。上周做过系统更新。", "D7 台式机", "desktop", "repair", "single",
     "medium", "email", {"frequency": "always"}),
    ("fault", "激光打印机频繁卡纸", "打印到第二三张就卡纸，提示“纸盒 2 卡纸”，取出纸后重启仍然卡。"
     "财务部每天要打印大量凭证，影响较大。", "LP-404 激光打印机", "printer", "repair", "group",
     "high", "phone", {"frequency": "often"}),
    ("fault", "空调不制冷，室外机不转", "开机后室内机出风但不冷，室外机风扇不转，显示屏偶尔出现 E6。"
     "机房温度已经升到 30 度。", "KF-35 变频空调", "air_conditioner", "repair", "business",
     "critical", "phone", {"frequency": "always"}),
    ("fault", "网络录像机硬盘报错，录像丢失", "NVR 提示“硬盘异常”，最近三天的监控录像无法回放。"
     "仓库昨晚发生货物短少，急需调取录像。", "NV-8 网络录像机", "security", "repair", "business",
     "critical", "wechat", {"frequency": "always"}),
    ("fault", "Router drops all connections every few hours", "Our branch office router "
     "reboots by itself 3-4 times a day; the log shows 'watchdog timeout' before each reboot. "
     "VPN to head office goes down each time.", "R-160 企业路由器", "network", "repair",
     "group", "high", "email", {"frequency": "often"}),
    ("fault", "扫码枪无法识别条码", "收银台扫码枪红光正常，但扫描商品条码没有反应，换了 USB 口也不行。",
     "BS-20 扫码枪", "peripheral", "replace", "single", "medium", "ecommerce",
     {"frequency": "always"}),
    ("fault", "工控机运行中自动重启", "产线上的工控机每天自动重启一到两次，重启前风扇声音很大，"
     "机箱很烫。车间温度较高、粉尘较多。", "IPC-610 工控机", "industrial", "repair", "business",
     "high", "phone", {"frequency": "sometimes"}),
    ("inquiry", "笔记本保修期多久", "去年 12 月在官方旗舰店买的笔记本，想问一下保修期是一年还是两年，"
     "电池是否在保修范围内？", "X1-Pro 笔记本", "warranty", "explain", None, None, "ecommerce",
     {}),
    ("inquiry", "如何设置打印机双面打印", "新买的打印机，在 Windows 11 里找不到双面打印的选项，"
     "请问驱动要怎么设置？", "LP-404 激光打印机", "howto", "explain", None, None, "web", {}),
    ("inquiry", "How do I reset the NVR admin password?", "We lost the admin password of "
     "our NVR after a staff change. Is there a safe way to reset it without losing "
     "recordings?", "NV-8 网络录像机", "howto", "explain", None, None, "email", {}),
    ("inquiry", "空调室外机可以移机吗", "公司搬迁，想咨询空调移机是否收费，移机后是否还保修。",
     "KF-35 变频空调", "service", "explain", None, None, "phone", {}),
    ("inquiry", "路由器是否支持 IPv6", "运营商要求开通 IPv6，想确认 R-160 当前固件是否支持，"
     "需不需要升级。", "R-160 企业路由器", "howto", "explain", None, None, "wechat", {}),
    ("complaint", "上门工程师迟到两个小时", "约好上午 9 点上门维修空调，工程师 11 点多才到，"
     "期间打电话也没人接，耽误了我们一上午的工作。", None, "service_attitude", "compensate",
     None, "high", "phone", {}),
    ("complaint", "同一问题报修三次仍未解决", "打印机卡纸问题一个月内报修了三次，每次工程师来换个零件就走，"
     "过几天又坏。要求更换整机。", "LP-404 激光打印机", "repeat_fault", "replace", "group",
     "high", "phone", {}),
    ("complaint", "客服态度差，挂断电话", "打客服热线询问维修进度，客服语气很不耐烦，"
     "没说完就挂了电话。", None, "service_attitude", "explain", None, "medium", "phone", {}),
    ("complaint", "Replacement unit arrived damaged", "The replacement scanner you sent "
     "arrived with a cracked housing. This is the second time our order has been delayed.",
     "BS-20 扫码枪", "logistics", "replace", None, "medium", "email", {}),
    ("complaint", "维修收费与报价不符", "维修前说只收 200 元检测费，结束后收了 680 元，"
     "没有提前告知更换了配件。", "D7 台式机", "billing", "refund", None, "medium", "web", {}),
    ("maintenance", "网络录像机固件升级", "厂家通知 NV-8 有安全漏洞，希望安排远程升级到最新固件，"
     "升级期间监控不能中断超过 10 分钟。", "NV-8 网络录像机", "firmware", "other", None,
     "medium", "email", {"product.version": "V4.2.1", "preferred_time": "周末晚上 22:00 以后"}),
    ("maintenance", "空调年度保养", "公司 12 台空调需要做年度清洗保养，请安排时间。",
     "KF-35 变频空调", "annual_service", "other", None, "low", "phone",
     {"product.version": "-", "preferred_time": "工作日下午"}),
    ("maintenance", "路由器系统版本更新", "想把分公司的三台路由器统一升级到 V5.1，"
     "请提供升级包和操作指导。", "R-160 企业路由器", "firmware", "other", None, "low", "web",
     {"product.version": "V4.8.3"}),
    ("maintenance", "工控机定期除尘与检测", "车间粉尘大，想预约工控机季度除尘和散热检测。",
     "IPC-610 工控机", "annual_service", "other", None, "low", "wechat",
     {"product.version": "BIOS 2.3", "preferred_time": "下周三停产检修日"}),
    ("return", "七天无理由退货", "在京东旗舰店买的扫码枪，收到后发现和收银系统不兼容，"
     "包装完好，申请七天无理由退货。", "BS-20 扫码枪", "return", "refund", None, "low",
     "ecommerce", {"return_reason": "no_reason"}),
    ("return", "收到的打印机外壳破损", "快递送到时外箱完好，拆开发现打印机右侧外壳裂开，"
     "申请换货。", "LP-404 激光打印机", "exchange", "replace", None, "medium", "ecommerce",
     {"return_reason": "damaged"}),
    ("return", "发错型号，申请换货", "订购的是 X1-Pro 16G 内存版，收到的是 8G 版。",
     "X1-Pro 笔记本", "exchange", "replace", None, "medium", "web",
     {"return_reason": "wrong_item"}),
    ("return", "Laptop keyboard defective on arrival", "Several keys (E, R, T) do not "
     "respond on the new laptop. We would like a replacement unit.", "X1-Pro 笔记本",
     "exchange", "replace", None, "medium", "email", {"return_reason": "defect"}),
    ("invoice", "开具增值税专用发票", "11 月采购的 5 台台式机需要开增值税专用发票，"
     "开票信息见附件。", "D7 台式机", "vat_special", "reissue", None, None, "email",
     {"invoice.kind": "special"}),
    ("invoice", "发票抬头错误，申请重开", "上月开的发票抬头少了“有限公司”四个字，财务无法入账，"
     "申请作废重开。", "KF-35 变频空调", "reissue", "reissue", None, None, "phone",
     {"invoice.kind": "normal"}),
    ("invoice", "补开电子发票", "在电商平台下单时忘记勾选开发票，现在需要补开电子发票。",
     "BS-20 扫码枪", "electronic", "reissue", None, None, "ecommerce",
     {"invoice.kind": "electronic"}),
    ("invoice", "Invoice needed for annual maintenance contract", "Please issue a VAT "
     "invoice for our 2026 maintenance contract; our finance team closes the books on the "
     "25th.", "R-160 企业路由器", "vat_special", "reissue", None, None, "email",
     {"invoice.kind": "special"}),
)

PROGRESS = {
    "fault": ("已电话联系客户，确认故障现象，先远程排查。", "已远程排查，初步判断为主板供电故障，需要上门。",
              "工程师已出发，预计 40 分钟到达。", "已更换主板，开机测试正常，请客户确认。"),
    "inquiry": ("已电话回复客户，并发送操作说明截图。",),
    "complaint": ("已致电客户致歉，了解详细经过。", "已与相关工程师核实情况，内部通报处理。"),
    "maintenance": ("已与客户确认维护时间窗口。", "已完成升级/保养，设备运行正常。"),
    "return": ("已收到客户寄回的产品，质检中。", "质检确认问题属实，已安排换货/退款。"),
    "invoice": ("已核对开票信息。", "发票已开具，电子版已发送至客户邮箱。"),
}
RESOLUTIONS = {
    "fault": "更换故障部件后测试正常，客户现场确认可以使用。",
    "inquiry": "已解答客户问题并发送操作指引。",
    "complaint": "已向客户致歉并按约定给予补偿，相关人员已培训。",
    "maintenance": "已按计划完成维护，设备运行正常。",
    "return": "已完成退换货，新货已签收。",
    "invoice": "发票已开具并寄出/发送。",
}
HANDLERS = {"fault": ("li.qiang", "liu.yang", "zhou.hao"), "maintenance": ("zhao.min", "zhou.hao"),
            "inquiry": ("wang.fang", "chen.jing"), "complaint": ("chen.jing", "wang.fang"),
            "return": ("sun.li", "alex.chen"), "invoice": ("sun.li", "alex.chen")}
INTAKE = ("wang.fang", "chen.jing")


def tickets(rules, now: datetime, count: int = 40, seed: int = 7):
    """Yield the sample desk's history, step by step: [(records, event)] in time order,
    where ``records`` is [(kind, record as after the step)] (kind: ticket, customer, unit,
    part; a part used on a ticket is one step with both) and ``event`` the step's own."""
    rng = random.Random(seed)
    start = now - timedelta(days=42)
    begun = start - timedelta(days=30)  # the records came over from the sales system then
    desk = _Records(rules, begun)
    stories = []
    for i in range(count):
        request = REQUESTS[i % len(REQUESTS)]
        created = _business_moment(rng, start + timedelta(days=42 * i / count), now)
        stories.append((created, request, rng.randrange(len(CUSTOMERS))))
    stories.sort(key=lambda s: s[0])
    sequence: dict = {}
    steps = []
    for created, request, who in stories:
        day = created.date()
        sequence[day] = sequence.get(day, 0) + 1
        number = format_number(rules.prefix, day, sequence[day])
        steps.extend(_story(rules, rng, number, created, request, who, now, desk))
    steps.sort(key=lambda pair: (pair[1].at, pair[0][0][1].fields["id"]))
    made = [([(kind, record)], record.events[-1]) for kind, record in desk.made]
    made += [([("part", part)], part.events[-1]) for part in desk.parts.values()]
    return made + desk.moved(steps)


class _Records:
    """The sample's customers, units and parts, and the parts its tickets use."""

    def __init__(self, rules, begun: datetime):
        self.rules, self.begun = rules, begun
        self.made, self.customers, self.units, self.parts = [], [], {}, {}
        self.uses: dict = {}  # ticket event id -> (part, qty, warehouse)
        schema = rules.records["customer"]
        for name, company, phone, email, address, region, tier in CUSTOMERS:
            values = {"kind": "organisation" if company else "person", "name": name,
                      "company": company, "phones": [phone], "emails": [email],
                      "address": address, "region": region, "tier": tier}
            uid = fixed_ulid(begun, f"sample customer {phone}".encode())  # same in every demo
            record = records.create(schema, records.customer_id(uid), uid,
                                    {k: v for k, v in values.items() if v}, new_ulid(begun),
                                    begun, "chen.jing")
            self.customers.append(record.fields["id"])
            self.made.append(("customer", record))
        schema = rules.records["part"]
        for number, name, models, cost, price, minimum, stock in PARTS:
            part = records.create(schema, number, new_ulid(begun), {
                "name": name, "models": models, "unit_cost": F.money(cost),
                "price": F.money(price), "minimum": minimum}, new_ulid(begun), begun, "sun.li")
            for warehouse, qty in stock.items():
                part = records.move(schema, part, warehouse, qty, new_ulid(begun), begun,
                                    "sun.li", "receive", "期初库存")
            self.parts[number] = part

    def unit(self, serial: str, values: dict) -> str:
        """A unit the sales system knew (made once per serial)."""
        schema = self.rules.records["unit"]
        if values.get("purchased") is not None:
            values["warranty_end"] = records.warranty_end(
                values["purchased"], self.rules.warranty_months_of(values.get("model")))
        record = records.create(schema, serial, new_ulid(self.begun),
                                {k: v for k, v in values.items() if v is not None},
                                new_ulid(self.begun), self.begun, "sun.li")
        self.units[serial] = record
        self.made.append(("unit", record))
        return serial

    def moved(self, timeline: list) -> list:
        """``timeline`` with each part use also moving the part's stock, in the same step."""
        schema = self.rules.records["part"]
        out = []
        for items, event in timeline:
            use = self.uses.get(event.id)
            if use is not None:
                number, qty, warehouse, uid = use
                part = records.move(schema, self.parts[number], warehouse, -qty,
                                    new_ulid(event.at), event.at, event.by, "use",
                                    items[0][1].fields["id"], fees.ticket_ref(uid))
                self.parts[number] = part
                items = items + [("part", part)]
            out.append((items, event))
        return out


def _business_moment(rng, day: datetime, now: datetime) -> datetime:
    moment = day.replace(hour=rng.choice((9, 10, 11, 13, 14, 15, 16, 17)),
                         minute=rng.randrange(60), second=0, microsecond=0)
    while moment.weekday() >= 5 and rng.random() < 0.8:
        moment += timedelta(days=1)
    while moment > now - timedelta(minutes=30):  # still to come: a day earlier, same hour
        moment -= timedelta(days=1)
    return moment


def _story(rules, rng, number, created, request, who, now, desk):
    kind, title, description, product, category, expected, impact, urgency, channel, extra = \
        request
    name, company, phone, email, address, region, tier = CUSTOMERS[who]
    values: dict = {"title": title, "type": kind, "category": category, "channel": channel,
                    "description": description, "expected": expected, "impact": impact,
                    "urgency": urgency, "priority": rules.types[kind].priority
                    or rules.default_priority}
    for key, value in (("name", name), ("company", company), ("phone", phone),
                       ("email", email), ("address", address), ("region", region),
                       ("tier", tier)):
        model.set_path(values, f"customer.{key}", value)
    model.set_path(values, "customer.id", desk.customers[who])
    if kind == "invoice" and not company:
        model.set_path(values, "customer.company", f"{name}（个人）")
    if product:
        model.set_path(values, "product.model", product)
        serial = f"SN{rng.randrange(10**9):09d}"
        purchased = (created - timedelta(days=rng.randrange(20, 700))).date()
        order = f"JD{rng.randrange(10**11):011d}"
        contract = f"HT-{purchased.year}-{rng.randrange(1, 300):03d}" if company else None
        desk.unit(serial, {"model": product, "customer": desk.customers[who],
                           "purchased": purchased, "order_no": order, "contract": contract})
        for key, value in (("serial", serial), ("purchased", purchased), ("order_no", order),
                           ("contract", contract), ("warranty", records.warranty(
                               desk.units[serial].fields, created.date()))):
            if value is not None:
                model.set_path(values, f"product.{key}", value)
    if impact == "business" or urgency == "critical":
        values["priority"] = "P1"
    elif urgency == "high":
        values["priority"] = "P2"
    if kind == "invoice":
        model.set_path(values, "invoice.title", company or name)
        model.set_path(values, "invoice.tax_id", f"91330{rng.randrange(10**13):013d}")
        model.set_path(values, "invoice.amount", f"{rng.randrange(2, 90) * 100}.00")
    if kind == "maintenance":
        model.set_path(values, "product.version", "V4.2.1")
    if kind == "fault":
        values["occurred"] = created - timedelta(hours=rng.randrange(24, 240))
        values["last_occurred"] = created - timedelta(minutes=rng.randrange(10, 120))
        values["usage"] = rng.choice(USAGE)
    for key, value in extra.items():
        model.set_path(values, key, value)
    values = {k: v for k, v in values.items() if v is not None}
    schema = rules.schema
    intake = rng.choice(INTAKE)
    ticket = model.create(schema, values, number, new_ulid(created), new_ulid(created), created,
                          intake, rules.initial_status)
    out = [([("ticket", ticket)], ticket.events[-1])]
    at = created
    handler = rng.choice(HANDLERS[kind])
    team = rules.agents[handler].team

    def step(action, minutes, by, note=None, visibility=None, ref=None, **updates):
        nonlocal ticket, at
        at = at + timedelta(minutes=minutes)
        if at >= now:
            return False
        new_fields = model.with_fields(ticket, **updates)
        ticket, event = model.change(schema, ticket, new_fields, new_ulid(at), at, by, action,
                                     note=note, visibility=visibility, ref=ref)
        out.append(([("ticket", ticket)], event))
        return True

    age_days = (now - created).days
    ok = step("assign", rng.randrange(5, 60), intake, status="assigned", assignee=handler,
              team=team)
    warranty = model.get_path(values, "product.warranty")
    part = FAULT_PARTS.get(product) if kind == "fault" else None
    paid = kind == "fault" and warranty == "out"
    if ok and paid:  # out of warranty: quoted, and approved before work starts
        schedule = records.fee_schedule(rules.products, product, rules.fees)
        price = desk.parts[part].fields["price"] if part else fees.ZERO
        quote = fees.quote(schedule, price, True, {})
        ok = step("quote", rng.randrange(10, 60), handler, visibility="public",
                  note=f"报价 ¥{quote['quote']}：人工 ¥{quote['labour']}，上门 "
                       f"¥{quote['travel']}，备件 ¥{quote['parts']}",
                  **{f"fee.{k}": v for k, v in quote.items()})
        ok = ok and step("approve", rng.randrange(30, 240), intake, note="客户电话确认报价",
                         visibility="internal", **{"fee.approval": "approved"})
    ok = ok and step("start", rng.randrange(10, 120), handler, status="in_progress")
    if ok and part:
        label = rules.stock.warehouses["main"]
        ok = step(fees.USE, rng.randrange(60, 600), handler, visibility="internal",
                  note=f"使用备件 {part} {desk.parts[part].fields['name']} ×1（{label}）",
                  ref=fees.part_ref(part, 1, "main"))
        if ok:
            desk.uses[out[-1][1].id] = (part, 1, "main", ticket.fields["uid"])
    notes = PROGRESS[kind]
    for note in notes[:-1] if len(notes) > 1 else notes:
        ok = ok and step("comment", rng.randrange(30, 600), handler, note=note,
                         visibility="public")
    if ok and kind in ("fault", "complaint") and rng.random() < 0.35:
        lead = rules.teams[team].get("lead") or handler
        ok = step("escalate", rng.randrange(60, 300), lead,
                  note="客户多次催促，升级至组长跟进。" if kind == "fault" else
                  "投诉升级至服务主管处理。", priority="P1" if kind == "fault" else "P2")
    if ok and kind in ("fault", "return") and rng.random() < 0.3:
        ok = step("wait", rng.randrange(30, 240), handler, status="waiting",
                  note="请客户提供购买凭证和故障照片。")
        ok = ok and step("resume", rng.randrange(240, 2880), handler, status="in_progress",
                         note="客户已补充照片。")
    ok = ok and step("comment", rng.randrange(30, 300), handler, note=notes[-1],
                     visibility="public")
    if ok and rng.random() < 0.2:
        ok = step("comment", rng.randrange(5, 60), handler, visibility="internal",
                  note="备件库存紧张，已从宁波仓调货。" if kind == "fault" else "已在内部知识库补充此问题。")
    if age_days < 4 and rng.random() < 0.6:
        return out  # recent: still being worked
    ok = ok and step("resolve", rng.randrange(20, 240), handler, status="resolved",
                     resolution=RESOLUTIONS[kind])
    if ok and paid:
        ok = step("charge", rng.randrange(10, 120), intake, note="微信支付",
                  visibility="internal", **{"fee.charged": ticket.get("fee.quote")})
    if ok and rng.random() < 0.12:
        ok = step("reopen", rng.randrange(600, 2880), intake, status="reopened",
                  note="客户反馈问题再次出现。")
        ok = ok and step("start", rng.randrange(30, 240), handler, status="in_progress")
        ok = ok and step("resolve", rng.randrange(120, 1440), handler, status="resolved",
                         resolution=RESOLUTIONS[kind] + "（二次处理，已更换整机。）")
    if ok and age_days > 7:
        csat = rng.choices((5, 4, 3, 2, 1), weights=(50, 28, 12, 6, 4))[0]
        feedback = {5: "处理及时，工程师很专业。", 4: "整体满意。", 3: "解决了，但等得有点久。",
                    2: "沟通不够及时。", 1: "非常不满意。"}[csat]
        step("close", rng.randrange(600, 4320), intake, status="closed", csat=csat,
             feedback=feedback, note="客户已确认问题解决。")
    return out


# The sample desk's knowledge base (kb/NAME.md): (name, front matter, body)
ARTICLES = (
    ("lp404-paper-jam", {"title": "LP-404 激光打印机卡纸的排查与处理",
                         "products": ["LP-404 激光打印机"], "categories": ["printer"],
                         "tags": ["卡纸", "搓纸轮"]},
     "## 现象\n\n打印几张就提示卡纸，纸停在进纸口或定影器附近，取出后很快又卡。\n\n"
     "## 先请客户自查\n\n1. 关机拔电，顺着进纸方向取出卡纸，检查有无碎纸残留；\n"
     "2. 纸张不超过装纸线，导板贴紧纸边，换一包干燥的 70-80 克纸；\n3. 打印测试页。\n\n"
     "## 工程师处理\n\n- 连续卡纸多为搓纸轮（RL1-1442）磨损：更换后连续打印 200 张验证；\n"
     "- 卡在定影器附近且纸有褶皱：检查定影组件（RM1-2337）。\n"),
    ("blue-screen-0x7b", {"title": "开机蓝屏 0x0000007B（INACCESSIBLE_BOOT_DEVICE）",
                          "products": ["D7 台式机", "X1-Pro 笔记本"],
                          "categories": ["desktop", "laptop"], "tags": ["蓝屏", "系统更新"]},
     "## 现象\n\n系统更新后开机蓝屏，代码 0x0000007B，反复重启进不了桌面。\n\n## 原因\n\n"
     "存储控制器驱动与更新不兼容，或 BIOS 中硬盘模式被改（AHCI/RAID）。\n\n## 处理\n\n"
     "1. BIOS 中确认硬盘模式与安装系统时一致；\n2. 进入恢复环境，卸载最近的更新或回滚存储驱动；\n"
     "3. 仍不能启动时修复引导记录。\n"),
    ("ac-e6-not-cooling", {"title": "变频空调不制冷、室外机不转（E6）",
                           "products": ["KF-35 变频空调"], "categories": ["air_conditioner"],
                           "tags": ["不制冷", "E6"]},
     "## 现象\n\n室内机出风但不冷，室外机风扇不转，显示 E6。\n\n## 处理\n\n"
     "- 先断电 5 分钟再开机，排除通讯故障；\n- 室外机不启动多为启动电容（KF35-CAP）失效：测量容量，"
     "更换后试机；\n- 仍报 E6：检查内外机连接线和室外主板。\n"),
)
