"""A realistic, deterministic demo data set: users, cases and every lifecycle step they took.

``generate_demo(now)`` produces, from a seed, a few thousand cases registered over the last days
with the hotline's real mix (51% complaints, 34% inquiries, …), daily and hourly patterns, real
Zhumadian addresses, and for each case the exact sequence of commands it went through after
registration. Every command is built for the real domain code (``lifecycle.apply``, deadlines
from ``domain.deadlines`` on the packaged working-day calendar), so ``replay`` reproduces each
case exactly; nothing here touches a database or reads the wall clock.

Same ``now``, ``count``, ``seed`` and ``days`` → identical output.
"""

from __future__ import annotations

import contextlib
import math
import random
import uuid as uuid_mod
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TypeVar

from agent_tui.data.addresses import load_gazetteer, load_starter_roads
from agent_tui.data.calendar import default_calendar
from agent_tui.data.reference import ReferenceData, load_reference
from agent_tui.domain.address import AddressLevel
from agent_tui.domain.calendar import SHANGHAI, Deadline, WorkCalendar, end_of_day, require_aware
from agent_tui.domain.case import (
    OPEN_STATUSES,
    Address,
    AppealType,
    Case,
    Channel,
    DeadlineClass,
    Gender,
    Intake,
    ReplyOutcome,
    Role,
    Satisfaction,
    Solved,
    Status,
    SupervisionLevel,
    Urgency,
    validate_intake,
)
from agent_tui.domain.deadlines import (
    co_opinion_by,
    dispatch_deadlines,
    extended_deadline,
    extension_limit,
    notice_at,
    public_notice_at,
    reminder_at,
    reopen_deadline,
)
from agent_tui.domain.hotspots import place_of
from agent_tui.domain.lifecycle import Command, Event, Step, apply, register
from agent_tui.domain.related import RELATED_WINDOW
from agent_tui.domain.routing import Router

#: The one password of every demo account. It is a demo: never load this set into production.
DEMO_PASSWORD = "demo1234"
SYSTEM_ACTOR = "system"
CITY = "city"
#: County platforms that get a demo agent of their own: (platform code, user id prefix).
COUNTY_AGENT_PLATFORMS: tuple[tuple[str, str], ...] = (("411726", "by"), ("411724", "zy"))

_UUID_NAMESPACE = uuid_mod.UUID("6f1d2c1e-8d0b-5c43-9a53-12345d3a0000")


# --- users --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    """A demo account. Every demo account has the password ``demo1234`` (``DEMO_PASSWORD``):
    it is a documented demo set, not a secret."""

    user_id: str
    name: str
    role: Role
    department: str = ""
    platform: str = CITY
    password: str = DEMO_PASSWORD


_AGENT_NAMES = ("张敏", "王芳", "李静", "刘洋", "陈丽", "杨雪", "赵婷", "黄磊")
_LEAD_NAMES = ("孙红", "周建国")


def _routed_departments(ref: ReferenceData) -> list[str]:
    """Departments the category tree routes to (lead or co), the county governments a
    returned case is re-dispatched to and the county units the county routing table names
    (泌阳县供水公司: ``byx-gs``), in reference order."""
    used: set[str] = set()
    for category in ref.leaves():
        used.add(category.department)
        used.update(category.co_departments)
    used.update(d.code for d in ref.departments_of_kind("county"))
    used.update(rule.department for rule in ref.county_routing)  # township/city: no such code
    return [d.code for d in ref.departments if d.code in used]


def demo_users(ref: ReferenceData | None = None) -> list[DemoUser]:
    """Agents ``agent01..agent08``, leads ``lead01``/``lead02``, ``admin``, a city leader
    ``leader01`` (领导接听: the cases taken at its seat are 领导交办), one liaison per
    routed department (user id = its code in lower case, e.g. ``cgj``) and one agent on each of
    two county platforms (``by_agent01`` for 泌阳县, ``zy_agent01`` for 正阳县).

    All passwords are ``demo1234`` (see ``DEMO_PASSWORD``): this is demo data.
    """
    ref = ref or load_reference()
    users = [
        DemoUser(f"agent{i:02d}", f"话务员{name}", Role.AGENT)
        for i, name in enumerate(_AGENT_NAMES, start=1)
    ]
    users += [
        DemoUser(f"lead{i:02d}", f"班长{name}", Role.LEAD)
        for i, name in enumerate(_LEAD_NAMES, start=1)
    ]
    users.append(DemoUser("admin", "系统管理员", Role.ADMIN))
    # 领导接听: the city leader who takes calls at a seat once a month.
    users.append(DemoUser("leader01", "市领导", Role.LEADER))
    for code in _routed_departments(ref):
        department = ref.department(code)
        assert department is not None
        users.append(
            DemoUser(
                code.lower(),
                f"{department.short_name}联络员",
                Role.DEPARTMENT,
                department=code,
                platform=department.platform,
            )
        )
    for platform_code, prefix in COUNTY_AGENT_PLATFORMS:
        platform = ref.platform(platform_code)
        assert platform is not None
        users.append(
            DemoUser(
                f"{prefix}_agent01", f"{platform.name}话务员", Role.AGENT, platform=platform_code
            )
        )
    return users


# --- cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCase:
    """A case as registered, and every command it went through after registration, in order.

    ``number`` is the human-readable case number (``ZMD-YYYYMMDD-NNNN``, per registration day).
    ``related_to`` is the first case of the related group (关联工单) the agent linked this one to
    at intake ('' when not linked).
    """

    uuid: str
    intake: Intake
    agent: str
    platform: str
    registered_at: datetime
    steps: tuple[Command, ...]
    number: str = ""
    related_to: str = ""


def replay(case: DemoCase) -> tuple[Case, list[Event]]:
    """Register the case and apply every step with the real lifecycle; the final case and the
    events (registration first). Raises the domain's error if any step is not valid.

    A linked case's registration carries the link as the store writes it:
    ``changes["related_to"] == ("", group)``."""
    current, event = register(
        case.intake,
        uuid=case.uuid,
        actor=case.agent,
        role=Role.AGENT,
        at=case.registered_at,
        number=case.number,
        platform=case.platform,
    )
    if case.related_to:
        event = replace(event, changes={**event.changes, "related_to": ("", case.related_to)})
    events = [event]
    for command in case.steps:
        current, event = apply(current, command)
        events.append(event)
    return current, events


# --- content ------------------------------------------------------------------------------------

_URGE_TEXTS = (
    "来电人称反映已过去好几天，仍无人处理，要求尽快解决",
    "来电人再次来电催办，情况仍未改善",
    "来电人说问题越来越严重，请承办单位尽快到现场",
)
_CO_OPINIONS = (
    "经核实，该处属本单位管辖部分已安排人员配合主办单位处理",
    "本单位已派员到现场查看，建议主办单位牵头，本单位全力配合",
    "经查，该事项涉及本单位审批，相关手续正在办理中",
)
_OFFICERS = ("王磊", "李娜", "张伟", "刘洋", "陈静")
_SUPPLEMENT_TEXTS = (
    "来电人补充：晚上八点以后情况最明显",
    "来电人补充了具体位置：靠近路口的第三家门面",
    "来电人补充：附近居民也可以作证",
)

# Templates per category leaf: (code, weight, templates). Placeholders: {place} (a road, crossing
# or landmark with a direction, or a village), {village} (a village or community by name),
# {community} (an urban 社区), {estate} (a 小区 in a 社区: 中山街社区幸福家园小区), {county}.
# A template with {estate}/{community} gets a community address, {village} a village one, and
# {place} any kind (road, crossing, landmark or village).
_T = tuple[str, int, tuple[str, ...]]

# fmt: off
_COMPLAINTS: tuple[_T, ...] = (
    ("0101", 4, (
        "{place}有流动摊贩长期占道经营水果蔬菜，早晚高峰堵塞人行道，行人只能走机动车道",
        "{place}多家商户把货架和餐桌摆到人行道上，占道经营严重，希望城管处理",
    )),
    ("0103", 2, ("{place}商铺门面和电线杆上被张贴大量小广告，清理后又反复张贴",)),
    ("0104", 2, (
        "{place}LED屏整天播放广告，噪音扰民",
        "{place}一家商铺门口音响循环播放促销广告，声音很大，从早到晚不停",
    )),
    ("0105", 2, ("{place}夜间渣土车经过撒漏严重，路面全是泥土，下雨后非常湿滑",)),
    ("0106", 4, (
        "{place}垃圾桶已满多日无人清运，散发异味，招来大量蚊蝇",
        "{village}垃圾堆放点长期无人清理，气味难闻，希望尽快清运",
    )),
    ("0107", 3, ("{place}一段路灯已经一周不亮，晚上漆黑一片，行人出行不安全",)),
    ("0108", 2, (
        "{place}绿化带内树木倒伏压到非机动车道，存在安全隐患",
        "{place}行道树枝叶遮挡交通信号灯和路灯，希望及时修剪",
    )),
    ("0109", 4, (
        "{place}下水道堵塞，雨后积水漫到非机动车道",
        "{place}窨井污水外溢，臭味很大，已经持续三天",
    )),
    ("0110", 3, ("{place}路面出现多处坑洼，电动车经过容易摔倒，希望尽快修补",)),
    ("0111", 1, ("{place}一处井盖缺失，只用树枝简单遮挡，夜间极易发生危险",)),
    ("0112", 1, ("{place}路面出现塌陷坑，直径约一米，车辆经过非常危险",)),
    ("0113", 1, ("{place}附近公厕长期锁门不开放，群众如厕困难",)),
    ("0201", 4, (
        "{estate}物业不作为，楼道灯坏了一个月没人修，电梯也经常停运",
        "{estate}物业费上涨未经业主大会同意，服务质量没有任何改善",
    )),
    ("0202", 2, ("{community}一处老旧小区无物业管理，垃圾无人清运，化粪池满溢",)),
    ("0203", 1, ("{estate}新交付的商品房墙体开裂、卫生间渗水，开发商一直拖延维修",)),
    ("0204", 2, ("来电人在{county}购买的商品房已交付三年，开发商至今未办理不动产权证",)),
    ("0206", 1, ("{place}一家房产中介收取看房押金后拒不退还",)),
    ("0207", 1, ("{community}一处老旧小区改造施工进度缓慢，路面挖开两个月未恢复",)),
    ("0209", 2, ("{estate}2号楼电梯经常故障停运，老人上下楼困难，担心安全问题",)),
    ("0301", 3, ("{place}一家KTV夜间噪音扰民，凌晨两三点还在营业",)),
    ("0302", 4, (
        "{village}附近夜间广场舞音乐声音过大，影响休息",
        "{place}广场每晚有人跳广场舞，音响开得很大，十点以后还不停",
    )),
    ("0303", 4, ("{place}工地夜间施工，搅拌车和打桩声音很大，严重影响周边居民休息",)),
    ("0304", 3, ("{place}一楼烧烤店油烟直排，楼上住户无法开窗",)),
    ("0305", 1, ("{place}附近有企业夜间排放刺鼻气体，周边居民反映喉咙不适",)),
    ("0306", 1, ("{village}附近河道水体发黑发臭，有死鱼漂浮",)),
    ("0308", 2, ("{village}有村民焚烧秸秆和生活垃圾，浓烟很大，影响周边群众",)),
    ("0401", 2, ("来电人在{place}乘坐出租车，司机拒绝打表并绕路多收费",)),
    ("0402", 2, ("{place}公交站等车超过40分钟，公交车不按时刻表发车",)),
    ("0404", 1, ("{place}长期有黑车拉客，扰乱运输秩序",)),
    ("0405", 3, (
        "{place}人行道上车辆乱停乱放，行人无法通行",
        "{place}一小区门口车辆长期乱停，早晚高峰堵塞道路",
    )),
    ("0406", 2, ("{place}交通信号灯故障，一直闪黄灯，高峰期很混乱",)),
    ("0409", 2, ("{village}通村道路破损严重，坑洼积水，群众出行困难",)),
    ("0501", 2, ("{place}一家超市标价与结算价格不一致，多收费后拒不退还差价",)),
    ("0502", 2, ("来电人在{place}一家餐馆就餐后出现腹泻，怀疑食品不卫生",)),
    ("0504", 3, ("来电人在{place}一家家电商场购买的空调安装一周就坏了，商家拒绝退换",)),
    ("0507", 2, ("{place}一家健身房突然关门，办的预付卡还剩两千多元无法退费",)),
    ("0601", 4, (
        "来电人在{place}附近工地务工，包工头拖欠三个月工资共一万二千元",
        "来电人在{county}一家企业工作，企业拖欠两个月工资，多次讨要未果",
    )),
    ("0602", 2, ("来电人所在单位（位于{place}）未按规定为职工缴纳社会保险",)),
    ("0603", 2, ("来电人所在公司未签订劳动合同就将其辞退，拒绝支付经济补偿",)),
    ("0701", 1, ("{county}某学校以资料费名义向学生收取费用，家长不认可",)),
    ("0703", 1, ("{place}一家校外培训机构停课跑路，学费无法退还",)),
    ("0705", 1, ("{place}学校门口上下学时段车辆拥堵，学生过马路不安全",)),
    ("0801", 1, ("来电人在驻马店市中心医院手术后出现并发症，对医院的处理不满意",)),
    ("0803", 1, ("来电人在{county}人民医院就诊，医生态度恶劣，不耐烦解释病情",)),
    ("0904", 2, ("{village}附近有多条流浪狗，夜间吠叫还追咬行人",)),
    ("1001", 3, ("{village}从昨天下午开始停水，没有接到任何通知",)),
    ("1002", 2, ("{place}供水管道破裂，路面大量冒水",)),
    ("1003", 1, ("{estate}自来水发黄有异味，烧开后有沉淀",)),
    ("1004", 1, ("{estate}高层水压低，五楼以上用水困难",)),
    ("1005", 2, ("{village}一带突然停电，已经停了三个多小时",)),
    ("1006", 1, ("{place}电线杆倾斜，电线下垂离地面很近，存在安全隐患",)),
    ("1008", 1, ("{estate}燃气压力不稳，做饭时经常熄火",)),
    ("1010", 2, ("{estate}暖气不热，室内温度只有十几度",)),
    ("1104", 1, ("{village}自来水经常停水，水质浑浊",)),
    ("1105", 1, ("{village}附近养猪场粪污直排，臭味很大",)),
    ("1404", 1, ("{place}公园健身器材损坏多日无人维修",)),
    ("1502", 2, ("来电人在{county}政务服务中心办事，窗口工作人员态度冷淡，让来回跑了三次",)),
    ("1602", 2, ("{estate}楼道堆放大量杂物，还有人在楼道给电动车充电，存在消防隐患",)),
    ("1604", 1, ("{place}雨后积水严重，积水深度超过半米，有车辆熄火",)),
    ("1606", 1, ("{place}一处广告牌松动摇晃，随时可能掉落",)),
    ("1701", 1, ("{village}一带移动信号很差，室内经常打不通电话",)),
    ("1705", 1, ("来电人在{county}寄的快递一周未送达，快递网点不予处理",)),
)
_REPORTS: tuple[_T, ...] = (
    ("0102", 3, ("{village}有住户在楼顶私搭乱建彩钢房，影响楼体安全",)),
    ("0307", 2, ("{village}附近有小作坊向沟渠偷排污水",)),
    ("0404", 1, ("{place}有人长期用私家车非法拉客，扰乱运输秩序",)),
    ("0502", 2, ("{place}一家小作坊疑似使用地沟油加工食品",)),
    ("0505", 2, ("{place}有一家无证照经营的食品加工作坊",)),
    ("0807", 1, ("{place}一家诊所无资质从事医疗美容",)),
    ("1303", 2, ("{village}有人在基本农田上违规建房",)),
    ("1304", 1, ("{village}河道有人夜间非法采砂",)),
    ("1305", 1, ("{village}有人滥伐村道两侧树木",)),
    ("1602", 1, ("{place}一家门店把消防通道堵死，还堆放易燃物",)),
)
_HELP: tuple[_T, ...] = (
    ("1204", 2, ("{place}有一名老人流浪，衣着单薄，神志不太清楚，需要救助",)),
    ("1201", 2, ("来电人家住{village}，家中老人重病，生活困难，希望申请临时救助",)),
    ("1203", 1, ("来电人是肢体残疾人，家住{village}，想申请轮椅等辅助器具",)),
    ("1001", 2, ("{village}停水两天了，家中有卧床老人，急需用水",)),
    ("1605", 1, ("{estate}电梯困人，有一位老人被困在电梯内",)),
    ("1601", 1, ("{estate}楼道里闻到很浓的燃气味，怀疑燃气泄漏",)),
    ("0601", 2, ("来电人在{place}附近工地干活，老板拖欠工资不给，快过年了急需回家",)),
    ("0111", 1, ("{place}井盖缺失，有电动车掉进去了，需要马上处理",)),
)
_SUGGESTIONS: tuple[_T, ...] = (
    ("0402", 2, ("建议在{place}增设公交站点，方便周边居民出行",)),
    ("0406", 2, ("建议在{place}增加左转信号灯，高峰期车辆排队很长",)),
    ("0107", 1, ("建议{place}增设路灯，夜间太暗",)),
    ("1404", 1, ("建议在{village}附近增设健身器材",)),
    ("1507", 1, ("建议12345热线在高峰时段增加话务员，今天打了三次才接通",)),
    ("0405", 1, ("建议在{place}划设临时停车位，缓解停车难",)),
)
_PRAISE: tuple[_T, ...] = (
    ("1801", 1, (
        "来电表扬市城管局工作人员，上次反映{place}路灯不亮，两天就修好了",
        "来电表扬热线话务员耐心细致，帮助解决了{village}停水问题",
        "来电感谢执法人员及时处理{place}占道经营问题，现在道路通畅了",
    )),
)
_OTHER: tuple[_T, ...] = (
    ("1802", 1, (
        "来电人反映{place}周边商户营业时间不规范，希望有关部门关注",
        "来电人询问{county}某项民生工程的进展情况，希望得到答复",
    )),
)
# fmt: on
#: Refusals (out of scope): content, reason, appeal type, category.
_REFUSALS: tuple[tuple[str, str, AppealType, str], ...] = (
    (
        "来电人与{village}的邻居因宅基地纠纷已起诉至法院，要求12345督促法院尽快判决",
        "属于诉讼范畴，已告知来电人通过司法途径解决",
        AppealType.COMPLAINT,
        "1802",
    ),
    (
        "来电人称在{place}与人发生争执被打，对方还在现场",
        "属于110警情，已告知来电人立即拨打110报警",
        AppealType.HELP,
        "0903",
    ),
    (
        "来电人对多年前的拆迁安置信访事项处理结果不满，要求12345重新处理",
        "属于信访事项，已告知来电人依法向信访部门反映",
        AppealType.COMPLAINT,
        "1301",
    ),
)
# fmt: off
_INQUIRY_TAILS = (
    "", "来电人称在网上查过但不清楚具体流程。", "来电人为外地户籍，目前在驻马店工作。",
    "来电人是替家中老人咨询。", "希望得到明确答复。",
)
# fmt: on
_INQUIRY_DISPATCH_TAIL = "来电人要求承办单位电话答复具体办理要求。"
_DIRECTIONS = ("东南角", "西北角", "东侧", "西侧", "南侧", "北侧约300米", "附近", "路口", "中段")
# fmt: off
_ESTATES = (
    "幸福家园", "锦绣华庭", "天中花园", "阳光新城", "金桂园", "和谐家园", "书香苑", "盛世嘉园",
    "文化苑", "御景湾", "铁路家属院", "供电局家属院",
)
# fmt: on
_BUILDINGS = ("3号楼", "5号楼2单元", "12号楼", "东门", "北门", "1号楼1单元", "南区")

_REPLIES = (
    "经{dept}现场核查，来电反映情况属实，已责令相关责任人立即整改，目前问题已处理完毕，"
    "已电话告知来电人处理结果。",
    "{dept}已安排工作人员到现场处理，问题已解决，并与来电人电话沟通，来电人表示认可。",
    "经{dept}调查，来电反映问题部分属实，已约谈相关负责人并限期整改，我单位将持续跟踪督促。",
    "{dept}已与来电人电话沟通，详细解释相关政策和处理流程，来电人表示理解。",
)
_INQUIRY_REPLY = "{dept}已电话联系来电人，告知办理流程及所需材料，来电人表示清楚。"
_RETURN_REASONS = (
    "来电反映地点属{county}管辖，建议转属地处理",
    "该事项不属于本单位职责范围，建议转属地政府处理",
)
_REFUSE_RETURN_REASON = "经核实属于本单位职责范围，请按期办理"
_EXTENSION_REASONS = (
    "需协调多个单位共同处理，申请延期",
    "涉及历史遗留问题，需进一步调查核实",
    "需等待施工队伍进场，申请延期",
)
_REFUSE_EXTENSION_REASON = "延期理由不充分，请按原期限办结"
_REVIEW_FAIL_REASONS = (
    "答复内容未说明具体处理结果，请补充",
    "答复未与来电人沟通，请联系后重新答复",
)
_REOPEN_REASONS = ("来电人反映问题仍未解决，经核实诉求合理", "来电人对处理结果不满意，要求重新处理")
_SUPERVISE_REASONS = ("领导交办", "热点问题")

# fmt: off
_SURNAMES = (
    ("王", 10), ("李", 9), ("张", 9), ("刘", 7), ("陈", 5), ("杨", 4), ("黄", 2), ("赵", 3),
    ("吴", 2), ("周", 2), ("徐", 2), ("孙", 2), ("马", 2), ("朱", 2), ("胡", 2), ("郭", 2),
    ("何", 1), ("高", 2), ("林", 1), ("罗", 1), ("郑", 1), ("梁", 1), ("谢", 1), ("宋", 1),
    ("韩", 1), ("冯", 1), ("邓", 1), ("曹", 1), ("彭", 1), ("魏", 1), ("蒋", 1), ("袁", 1),
)
_GIVEN_MALE = (
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "建华", "国强", "志刚", "海涛",
    "文博", "建军", "保国", "新民", "永胜", "子豪",
)
_GIVEN_FEMALE = (
    "芳", "娜", "敏", "静", "丽", "艳", "霞", "娟", "秀英", "桂兰", "玉梅", "晓燕", "丽华", "雪梅",
    "春花", "欣怡", "梦琪", "淑珍", "红梅", "金凤",
)
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "199",
)
# fmt: on

_APPEAL_MIX: tuple[tuple[AppealType, float], ...] = (
    (AppealType.COMPLAINT, 0.51),
    (AppealType.INQUIRY, 0.34),
    (AppealType.HELP, 0.06),
    (AppealType.REPORT, 0.04),
    (AppealType.SUGGESTION, 0.03),
    (AppealType.PRAISE, 0.01),
    (AppealType.OTHER, 0.01),
)
_TEMPLATES: dict[AppealType, tuple[_T, ...]] = {
    AppealType.COMPLAINT: _COMPLAINTS,
    AppealType.REPORT: _REPORTS,
    AppealType.HELP: _HELP,
    AppealType.SUGGESTION: _SUGGESTIONS,
    AppealType.PRAISE: _PRAISE,
    AppealType.OTHER: _OTHER,
}
_CHANNELS = (
    (Channel.PHONE, 85),
    (Channel.APP, 6),
    (Channel.WEB, 5),
    (Channel.SMS, 2),
    (Channel.LEADER, 2),
)
#: Hourly weights (local time): busy 9–11 and 14–17, quiet at night.
# fmt: off
_HOUR_WEIGHTS = (
    1, 0.5, 0.4, 0.3, 0.4, 0.8, 2, 5, 9, 12, 12, 11,
    7, 6, 11, 12, 12, 11, 7, 6, 5, 4, 3, 2,
)
# fmt: on
#: Categories whose {place} is a street, never a village (no LED screens or taxis in a field).
# fmt: off
_STREET_CATEGORIES = frozenset({
    "0101", "0103", "0104", "0105", "0107", "0110", "0111", "0112", "0113", "0206", "0401", "0402",
    "0404", "0405", "0406", "0501", "0504", "0507", "0703", "0705", "1002", "1006", "1404", "1604",
    "1606",
})
# fmt: on
_CRITICAL_CATEGORIES = frozenset({"1601", "1605"})
_URGENT_CATEGORIES = frozenset({"0111", "0112", "1604", "1606"})
_MIN_PER_STATUS = 2  # every status at least this many times (in a large enough set)


# --- static data, loaded once -------------------------------------------------------------------


@dataclass(frozen=True)
class _Places:
    county_weights: tuple[tuple[str, float], ...]
    roads: dict[str, tuple[str, ...]]
    crossings: dict[str, tuple[str, ...]]
    pois: dict[str, tuple[str, ...]]
    villages: dict[str, tuple[tuple[str, str], ...]]  # county → (township, village)
    communities: dict[str, tuple[tuple[str, str], ...]]  # the urban 社区 among them
    county_platform: dict[str, str]


@dataclass(frozen=True)
class _World:
    ref: ReferenceData
    router: Router
    calendar: WorkCalendar
    places: _Places
    known_categories: frozenset[str]
    knowledge_by_category: dict[str, tuple[tuple[str, str], ...]]  # category → (title, answer)
    inquiry_categories: tuple[str, ...]
    users: tuple[DemoUser, ...]
    department_user: dict[str, str] = field(default_factory=dict)


@cache
def _world() -> _World:
    ref = load_reference()
    roads: dict[str, list[str]] = {}
    crossings: dict[str, list[str]] = {}
    pois: dict[str, list[str]] = {}
    for entry in load_starter_roads():
        target = {AddressLevel.ROAD: roads, AddressLevel.CROSSING: crossings}.get(entry.level, pois)
        target.setdefault(entry.county, []).append(entry.name)
    villages: dict[str, list[tuple[str, str]]] = {}
    counties: list[str] = []
    for entry in load_gazetteer():
        if entry.level is AddressLevel.COUNTY:
            counties.append(entry.county)
        elif entry.level is AddressLevel.VILLAGE:
            villages.setdefault(entry.county, []).append((entry.township, entry.village))
    central = {"驿城区": 0.38, "河南驻马店经济开发区": 0.10}
    rest = [c for c in counties if c not in central]
    weights = tuple((c, central.get(c, 0.52 / len(rest))) for c in counties)
    county_platform = {p.county: p.code for p in ref.platforms if p.county}
    places = _Places(
        county_weights=weights,
        roads={k: tuple(v) for k, v in roads.items()},
        crossings={k: tuple(v) for k, v in crossings.items()},
        pois={k: tuple(v) for k, v in pois.items()},
        villages={k: tuple(v) for k, v in villages.items()},
        communities={
            k: tuple(tv for tv in v if tv[1].endswith("社区")) for k, v in villages.items()
        },
        county_platform=county_platform,
    )
    knowledge: dict[str, list[tuple[str, str]]] = {}
    for item in ref.knowledge:
        if item.category and ref.category(item.category) is not None:
            knowledge.setdefault(item.category, []).append((item.title, item.answer))
    inquiry_categories = tuple(
        c.code for c in ref.leaves() if c.deadline_class is DeadlineClass.INQUIRY
    )
    users = tuple(demo_users(ref))
    return _World(
        ref=ref,
        router=Router(ref.categories, ref.departments),
        calendar=default_calendar(),
        places=places,
        known_categories=frozenset(c.code for c in ref.categories),
        knowledge_by_category={k: tuple(v) for k, v in knowledge.items()},
        inquiry_categories=inquiry_categories,
        users=users,
        department_user={u.department: u.user_id for u in users if u.role is Role.DEPARTMENT},
    )


# --- random helpers -----------------------------------------------------------------------------


_T_co = TypeVar("_T_co")


def _pick(rng: random.Random, weighted: Sequence[tuple[_T_co, float]]) -> _T_co:
    return rng.choices([item for item, _ in weighted], [w for _, w in weighted])[0]


def _log_minutes(rng: random.Random, low: float, high: float) -> timedelta:
    """A delay between ``low`` and ``high`` minutes, uniform on a log scale (short ones common)."""
    return timedelta(minutes=low * math.exp(rng.random() * math.log(high / low)))


def _local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)


def _office_hours(at: datetime, rng: random.Random) -> datetime:
    """Move ``at`` into a department's office hours (08:00–18:00 local), never earlier."""
    local = _local(at)
    if 8 <= local.hour < 18:
        return at
    day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
    opening = datetime.combine(day, time(8), tzinfo=SHANGHAI)
    return opening + timedelta(minutes=rng.uniform(0, 150))


def _next_day_call(at: datetime, rng: random.Random) -> datetime:
    """A callback the day after ``at``, in calling hours (09:00–11:30 or 14:30–17:30)."""
    day = _local(at).date() + timedelta(days=1)
    start = time(9) if rng.random() < 0.55 else time(14, 30)
    base = datetime.combine(day, start, tzinfo=SHANGHAI)
    return base + timedelta(minutes=rng.uniform(0, 150 if start == time(9) else 180))


def _uuid(rng: random.Random) -> str:
    return str(uuid_mod.UUID(int=rng.getrandbits(128), version=4))


# --- callers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Caller:
    phone: str
    name: str
    gender: Gender


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _caller(rng: random.Random) -> _Caller:
    surname = _pick(rng, _SURNAMES)
    gender = Gender.FEMALE if rng.random() < 0.48 else Gender.MALE
    if rng.random() < 0.5:
        name = surname + ("女士" if gender is Gender.FEMALE else "先生")
    else:
        given = _GIVEN_FEMALE if gender is Gender.FEMALE else _GIVEN_MALE
        name = surname + rng.choice(given)
    return _Caller(_mobile(rng), name, gender)


# --- addresses ----------------------------------------------------------------------------------


def _address(
    rng: random.Random, places: _Places, template: str, county: str, *, street: bool = False
) -> tuple[Address, dict[str, str]]:
    """An address in ``county`` for ``template`` and the words that fill its placeholders."""
    if "{estate}" in template or "{community}" in template:
        township, community = rng.choice(places.communities[county])
        estate = rng.choice(_ESTATES)
        name = estate if estate.endswith("院") else estate + "小区"
        ctx = {"county": county, "community": community, "estate": community + name}
        detail = name + rng.choice(_BUILDINGS)
        return Address(county=county, township=township, village=community, detail=detail), ctx
    township, village = rng.choice(places.villages[county])
    ctx = {"county": county, "village": village, "place": village}
    if "{village}" in template or "{place}" not in template:
        return Address(county=county, township=township, village=village), ctx
    urban = county in ("驿城区", "河南驻马店经济开发区")
    modes: list[tuple[str, float]] = [] if street else [("village", 0.15 if urban else 0.45)]
    if places.roads.get(county):
        modes.append(("road", 0.45))
    if places.crossings.get(county):
        modes.append(("crossing", 0.30))
    if places.pois.get(county):
        modes.append(("poi", 0.10))
    mode = _pick(rng, modes)
    direction = rng.choice(_DIRECTIONS)
    if mode == "road":
        road = rng.choice(places.roads[county])
        ctx["place"] = road + direction
        return Address(county=county, road=road, detail=direction), ctx
    if mode == "crossing":
        crossing = rng.choice(places.crossings[county])
        direction = rng.choice(_DIRECTIONS[:6])
        ctx["place"] = crossing + direction
        return Address(county=county, road=crossing, detail=direction), ctx
    if mode == "poi":
        poi = rng.choice(places.pois[county])
        ctx["place"] = poi + rng.choice(_DIRECTIONS[2:6])
        return Address(county=county, detail=ctx["place"]), ctx
    return Address(county=county, township=township, village=village), ctx


# --- the lifecycle of one case ------------------------------------------------------------------


_SUPERVISION_LEVEL = {
    Step.REMIND: SupervisionLevel.REMINDED,
    Step.NOTICE: SupervisionLevel.NOTICE,
    Step.PUBLIC_NOTICE: SupervisionLevel.PUBLIC_NOTICE,
}
_AWAITING_REPLY = frozenset(
    {
        Status.DISPATCHED,
        Status.RETURN_REQUESTED,
        Status.IN_PROGRESS,
        Status.EXTENSION_REQUESTED,
    }
)


class _Stop(Exception):
    """The next step would be after ``now``: the case stays where it is."""


class _Script:
    """The steps of one case, as they are decided; tracks status, time and supervision."""

    def __init__(self, world: _World, rng: random.Random, now: datetime, start: datetime) -> None:
        self.world = world
        self.rng = rng
        self.now = now
        self.at = start
        self.status = Status.REGISTERED
        self.steps: list[Command] = []
        self.statuses: list[Status] = []
        self.deadline: Deadline | None = None
        self.return_by: datetime | None = None
        #: Co-departments whose opinion (协办意见) has not come yet, and when it is due.
        self.co_pending: list[str] = []
        self.co_due: datetime | None = None
        self.supervision = SupervisionLevel.NONE

    def _due_supervision(self) -> list[tuple[datetime, Step]]:
        if self.deadline is None or self.status not in _AWAITING_REPLY:
            return []
        calendar = self.world.calendar
        sweep = timedelta(minutes=5)  # the system's sweep runs just after the hour it is due
        due = [
            (reminder_at(self.deadline, calendar) + sweep, Step.REMIND),
            (notice_at(self.deadline, calendar) + sweep, Step.NOTICE),
            (public_notice_at(self.deadline, calendar) + sweep, Step.PUBLIC_NOTICE),
        ]
        return [(at, step) for at, step in due if _SUPERVISION_LEVEL[step] > self.supervision]

    def _supervise_until(self, until: datetime) -> None:
        for at, step in self._due_supervision():
            if self.at < at < until and at <= self.now:
                self.steps.append(Command(step, SYSTEM_ACTOR, Role.SYSTEM, at))
                self.statuses.append(self.status)
                self.at = at
                self.supervision = _SUPERVISION_LEVEL[step]

    def step(self, after: Status, command: Command) -> None:
        """Append ``command`` (at least a second after the last step, and after any supervision
        that fell due before it), or raise ``_Stop`` if that is after ``now``."""
        at = max(command.at, self.at + timedelta(seconds=1))
        self._supervise_until(min(at, self.now + timedelta(microseconds=1)))  # all < at
        if at > self.now:
            raise _Stop
        self.steps.append(replace(command, at=at))
        self.statuses.append(after)
        self.at = at
        self.status = after
        if command.step is Step.SUPERVISE:
            self.supervision = max(self.supervision, SupervisionLevel.SUPERVISED)

    def finish(self) -> None:
        """The case rests in its state until ``now``: the supervision due meanwhile."""
        self._supervise_until(self.now + timedelta(microseconds=1))


@dataclass
class _Plan:
    """What happens to one case (drawn before its steps are laid out)."""

    appeal_type: AppealType
    category: str
    urgency: Urgency
    anonymous: bool
    agent: str
    resolve_answer: str = ""
    refusal_reason: str = ""
    leader: bool = False


class _Generator:
    def __init__(self, world: _World, rng: random.Random, now: datetime) -> None:
        self.world = world
        self.rng = rng
        self.now = now
        users = world.users
        self.agents = [u.user_id for u in users if u.role is Role.AGENT and u.platform == CITY]
        self.leads = [u.user_id for u in users if u.role is Role.LEAD]

    # -- helpers --

    def _dept_command(self, step: Step, department: str, at: datetime, **params: object) -> Command:
        actor = self.world.department_user[department]
        return Command(
            step,
            actor,
            Role.DEPARTMENT,
            at,
            actor_department=department,
            **params,  # type: ignore[arg-type]
        )

    def _centre(self, step: Step, at: datetime, *, lead: bool = False, **params: object) -> Command:
        actor = self.rng.choice(self.leads if lead else self.agents)
        role = Role.LEAD if lead else Role.AGENT
        return Command(step, actor, role, at, **params)  # type: ignore[arg-type]

    def _deadline_class(self, category: str, urgency: Urgency) -> DeadlineClass:
        return self.world.router.route(category, urgency).deadline_class

    # -- the script --

    def script(self, plan: _Plan, intake: Intake, registered_at: datetime) -> _Script:
        s = _Script(self.world, self.rng, self.now, registered_at)
        with contextlib.suppress(_Stop):
            self._run(s, plan, intake, registered_at)
        s.finish()
        return s

    def _run(self, s: _Script, plan: _Plan, intake: Intake, registered_at: datetime) -> None:
        rng = self.rng
        agent = plan.agent
        if plan.refusal_reason:
            s.step(
                Status.REFUSED,
                Command(
                    Step.REFUSE,
                    agent,
                    Role.AGENT,
                    registered_at + _log_minutes(rng, 1, 6),
                    reason=plan.refusal_reason,
                ),
            )
            self._nightly_archive(s)
            return
        if plan.resolve_answer:
            sample = rng.random() < 0.3
            s.step(
                Status.CALLBACK_PENDING if sample else Status.RESOLVED,
                Command(
                    Step.RESOLVE,
                    agent,
                    Role.AGENT,
                    registered_at + _log_minutes(rng, 1, 8),
                    result=plan.resolve_answer,
                    sample_callback=sample,
                ),
            )
            if sample:
                self._callbacks(s, plan, intake)
            else:
                self._nightly_archive(s)
            return
        category = self.world.ref.category(plan.category)
        assert category is not None
        route = self.world.router.route(plan.category, plan.urgency)
        assert route.department is not None
        cls = route.deadline_class
        fast = cls in (DeadlineClass.EMERGENCY, DeadlineClass.UTILITIES)
        delay = (
            _log_minutes(rng, 1, 15)
            if fast
            else (_log_minutes(rng, 2, 40) if rng.random() < 0.85 else _log_minutes(rng, 60, 900))
        )
        co: tuple[str, ...] = ()
        if route.co_departments and rng.random() < 0.35:
            co = (route.co_departments[0].code,)
        department = route.department.code
        self._dispatch(s, plan, registered_at + delay, department, co, registered_at, agent=agent)
        if plan.leader or rng.random() < 0.01:
            reason = _SUPERVISE_REASONS[0] if plan.leader else rng.choice(_SUPERVISE_REASONS)
            s.step(
                s.status,
                self._centre(
                    Step.SUPERVISE, s.at + _log_minutes(rng, 5, 120), lead=True, reason=reason
                ),
            )
        department = self._department_work(s, plan, intake, department, registered_at)
        self._callbacks(s, plan, intake, department=department)

    def _dispatch(
        self,
        s: _Script,
        plan: _Plan,
        at: datetime,
        department: str,
        co: tuple[str, ...],
        registered_at: datetime,
        *,
        agent: str = "",
        lead: bool = False,
    ) -> None:
        cls = self._deadline_class(plan.category, plan.urgency)
        when = max(at, s.at + timedelta(seconds=1))
        deadlines = dispatch_deadlines(
            when, cls, plan.urgency, self.world.calendar, registered_at=registered_at
        )
        command = self._centre(
            Step.DISPATCH,
            when,
            lead=lead,
            department=department,
            co_departments=co,
            sign_deadline=deadlines.sign_by.at,
            return_deadline=deadlines.return_by.at,
            handling_deadline=deadlines.handling_by.at,
            deadline_provisional=deadlines.provisional,
            co_opinion_deadline=co_opinion_by(when, deadlines.handling_by, self.world.calendar).at
            if co
            else None,
        )
        if agent:
            command = replace(command, actor=agent)
        s.step(Status.DISPATCHED, command)
        s.deadline = deadlines.handling_by
        s.return_by = deadlines.return_by.at
        s.co_pending = list(co)
        s.co_due = command.co_opinion_deadline

    def _sign_delay(self, cls: DeadlineClass) -> timedelta:
        rng = self.rng
        if cls is DeadlineClass.EMERGENCY:
            return _log_minutes(rng, 2, 14)
        if cls is DeadlineClass.UTILITIES:
            return _log_minutes(rng, 3, 28 if rng.random() < 0.92 else 90)
        return _log_minutes(rng, 5, 600 if rng.random() < 0.95 else 2400)

    def _department_work(
        self, s: _Script, plan: _Plan, intake: Intake, department: str, registered_at: datetime
    ) -> str:
        """Sign, maybe return/extend, reply and review; returns the department that replied."""
        rng = self.rng
        cls = self._deadline_class(plan.category, plan.urgency)
        fast = cls in (DeadlineClass.EMERGENCY, DeadlineClass.UTILITIES)
        # Return request (~5%): from the dispatched state, within the return window.
        if rng.random() < 0.05 and not fast:
            at = _office_hours(s.at + _log_minutes(rng, 20, 900), rng)
            if s.return_by is not None and at < s.return_by:
                county = intake.address.county or "属地"
                reason = rng.choice(_RETURN_REASONS).format(county=county)
                s.step(
                    Status.RETURN_REQUESTED,
                    self._dept_command(Step.REQUEST_RETURN, department, at, reason=reason),
                )
                decide = s.at + _log_minutes(rng, 20, 480)
                if rng.random() < 0.8:
                    s.step(Status.RETURNED, self._centre(Step.APPROVE_RETURN, decide, lead=True))
                    department = self._other_department(plan, intake, department)
                    self._dispatch(
                        s,
                        plan,
                        s.at + _log_minutes(rng, 5, 120),
                        department,
                        (),
                        registered_at,
                        lead=rng.random() < 0.5,
                    )
                else:
                    s.step(
                        Status.IN_PROGRESS,
                        self._centre(
                            Step.REFUSE_RETURN, decide, lead=True, reason=_REFUSE_RETURN_REASON
                        ),
                    )
        if s.status is Status.DISPATCHED:
            at = s.at + self._sign_delay(cls)
            if not fast:
                at = _office_hours(at, rng)
            s.step(Status.IN_PROGRESS, self._dept_command(Step.SIGN, department, at))
        self._handle_and_reply(s, plan, department, cls, extension_ok=True)
        return department

    def _other_department(self, plan: _Plan, intake: Intake, department: str) -> str:
        ref = self.world.ref
        platform = self.world.places.county_platform.get(intake.address.county, "")
        county_dept = ref.county_department(platform) if platform else None
        if county_dept is not None and county_dept.code != department:
            return county_dept.code
        category = ref.category(plan.category)
        for co in category.co_departments if category else ():
            if co != department:
                return co
        return "ZFB" if department != "ZFB" else "ZWFWJ"

    def _reply_delay(self, s: _Script, cls: DeadlineClass) -> timedelta:
        rng = self.rng
        assert s.deadline is not None
        span = max(s.deadline.at - s.at, timedelta(minutes=30))
        roll = rng.random()
        if roll < 0.01:  # stuck: publicly noticed before it is replied
            fraction = rng.uniform(2.0, 4.0)
        elif roll < 0.07:  # replied after the deadline
            fraction = rng.uniform(1.02, 1.6)
        else:
            fraction = rng.uniform(0.08, 0.95) ** 1.4
        return span * fraction

    def _handle_and_reply(
        self, s: _Script, plan: _Plan, department: str, cls: DeadlineClass, *, extension_ok: bool
    ) -> None:
        rng = self.rng
        fast = cls in (DeadlineClass.EMERGENCY, DeadlineClass.UTILITIES)
        assert s.deadline is not None
        if extension_ok and not fast and rng.random() < 0.06:
            current = s.deadline
            at = _office_hours(s.at + (current.at - s.at) * rng.uniform(0.3, 0.7), rng)
            if at < current.at - timedelta(hours=1):
                limit = extension_limit(current, self.world.calendar)
                n = rng.randint(3, 10)
                day, _ = self.world.calendar.nth_workday_after(current.due_day, n, strict=False)
                requested = min(end_of_day(day), limit.at)
                s.step(
                    Status.EXTENSION_REQUESTED,
                    self._dept_command(
                        Step.REQUEST_EXTENSION,
                        department,
                        at,
                        reason=rng.choice(_EXTENSION_REASONS),
                        new_deadline=requested,
                    ),
                )
                decide = s.at + _log_minutes(rng, 30, 600)
                if rng.random() < 0.85:
                    approved = extended_deadline(current, requested, self.world.calendar)
                    s.step(
                        Status.IN_PROGRESS,
                        self._centre(
                            Step.APPROVE_EXTENSION,
                            decide,
                            lead=True,
                            handling_deadline=approved.at,
                            deadline_provisional=approved.provisional,
                        ),
                    )
                    s.deadline = approved
                else:
                    s.step(
                        Status.IN_PROGRESS,
                        self._centre(
                            Step.REFUSE_EXTENSION,
                            decide,
                            lead=True,
                            reason=_REFUSE_EXTENSION_REASON,
                        ),
                    )
        failed_once = False
        while True:
            at = s.at + self._reply_delay(s, cls)
            if not fast:
                at = _office_hours(at, rng)
            self._co_opinions(s, plan, at)
            self._repeat_calls(s, plan, at)
            s.step(
                Status.REPLIED,
                self._dept_command(
                    Step.REPLY,
                    department,
                    at,
                    result=self._reply_text(plan, department),
                    **_structured_reply(f"{at.isoformat()}{department}"),
                ),
            )
            review_at = s.at + _log_minutes(rng, 15, 360)
            if not failed_once and rng.random() < 0.03:
                failed_once = True
                s.step(
                    Status.IN_PROGRESS,
                    self._centre(
                        Step.REVIEW_FAIL,
                        review_at,
                        lead=rng.random() < 0.5,
                        reason=rng.choice(_REVIEW_FAIL_REASONS),
                    ),
                )
                continue
            s.step(Status.CALLBACK_PENDING, self._centre(Step.REVIEW_PASS, review_at))
            return

    def _co_opinions(self, s: _Script, plan: _Plan, reply_at: datetime) -> None:
        """The co-departments give their opinions (协办意见) before the lead replies: most on
        time, some late, a few never. A generator of its own, as ``_repeat_calls``."""
        if not s.co_pending or s.co_due is None:
            return
        rng = random.Random(f"co:{plan.agent}:{s.at.isoformat()}:{reply_at.isoformat()}")
        given: list[tuple[datetime, str]] = []
        for co in s.co_pending:
            roll = rng.random()
            if roll >= 0.92 or co not in self.world.department_user:
                continue  # never came
            end = min(reply_at, s.co_due) if roll < 0.8 else reply_at
            at = s.at + (end - s.at) * rng.uniform(0.2, 0.95)
            window = (s.at + timedelta(minutes=1), reply_at - timedelta(minutes=1))
            if window[0] < at < window[1] and at <= self.now:
                given.append((at, co))
        for at, co in sorted(given):
            s.step(
                s.status,
                self._dept_command(
                    Step.CO_OPINION,
                    co,
                    at,
                    opinion=rng.choice(_CO_OPINIONS),
                    officer=rng.choice(_OFFICERS),
                    phone=rng.choice(("", "0396-2345678", "13939612345")),
                ),
            )
        s.co_pending = []

    def _repeat_calls(self, s: _Script, plan: _Plan, reply_at: datetime) -> None:
        """The caller rings again while the department works (催办 ~5%, 补充 ~2%), between now
        and the reply. A generator of its own: the draws of every other step stay as they were
        (the demo's figures and the tests built on them do not move)."""
        rng = random.Random(f"repeat:{plan.agent}:{s.at.isoformat()}:{reply_at.isoformat()}")
        roll = rng.random()
        if roll >= 0.07:
            return
        step, texts = (
            (Step.URGE, _URGE_TEXTS) if roll < 0.05 else (Step.SUPPLEMENT, _SUPPLEMENT_TEXTS)
        )
        at = s.at + (reply_at - s.at) * rng.uniform(0.3, 0.9)
        if at <= s.at + timedelta(minutes=1) or at >= reply_at - timedelta(minutes=1):
            return
        if at > self.now:
            return  # not yet: the script must not stop here
        actor = rng.choice(self.agents)
        s.step(s.status, Command(step, actor, Role.AGENT, at, reason=rng.choice(texts)))

    def _reply_text(self, plan: _Plan, department: str) -> str:
        dept = self.world.ref.department(department)
        name = dept.short_name if dept else department
        if plan.appeal_type is AppealType.INQUIRY:
            return _INQUIRY_REPLY.format(dept=name)
        return self.rng.choice(_REPLIES).format(dept=name)

    def _callbacks(
        self,
        s: _Script,
        plan: _Plan,
        intake: Intake,
        *,
        department: str = "",
        reopened: bool = False,
    ) -> None:
        rng = self.rng
        if plan.anonymous:
            # No contact: one try, recorded as unreachable, and the case is closed.
            s.step(
                Status.ARCHIVED,
                self._centre(
                    Step.CALLBACK, _next_day_call(s.at, rng), reached=False, max_callback_tries=1
                ),
            )
            return
        at = _next_day_call(s.at, rng)
        for attempt in range(1, 4):
            reached = rng.random() >= 0.15
            if reached:
                s.step(Status.CALLED_BACK, self._centre(Step.CALLBACK, at, reached=True))
                break
            s.step(
                Status.ARCHIVED if attempt == 3 else Status.CALLBACK_PENDING,
                self._centre(Step.CALLBACK, at, reached=False),
            )
            if attempt == 3:
                return
            at = s.at + _log_minutes(rng, 120, 1500)
        roll = rng.random()
        if reopened:
            satisfaction = Satisfaction.SATISFIED if roll < 0.75 else Satisfaction.BASIC
        elif roll < 0.85:
            satisfaction = Satisfaction.SATISFIED
        elif roll < 0.94:
            satisfaction = Satisfaction.BASIC
        else:
            satisfaction = Satisfaction.DISSATISFIED
        rater = s.steps[-1].actor  # the agent who reached the caller asks for the rating
        solved, note = _callback_answers(satisfaction, s.at.isoformat())
        s.step(
            Status.RATED,
            Command(
                Step.RATE,
                rater,
                Role.AGENT,
                s.at + _log_minutes(rng, 1, 4),
                satisfaction=satisfaction,
                solved=solved,
                note=note,
            ),
        )
        if satisfaction is Satisfaction.DISSATISFIED and department and rng.random() < 0.75:
            at = s.at + _log_minutes(rng, 60, 1200)
            cls = self._deadline_class(plan.category, plan.urgency)
            deadline = reopen_deadline(at, cls, plan.urgency, self.world.calendar)
            s.step(
                Status.IN_PROGRESS,
                self._centre(
                    Step.REOPEN,
                    at,
                    lead=True,
                    reason=rng.choice(_REOPEN_REASONS),
                    handling_deadline=deadline.at,
                    deadline_provisional=deadline.provisional,
                ),
            )
            s.deadline = deadline
            self._handle_and_reply(s, plan, department, cls, extension_ok=False)
            self._callbacks(s, plan, intake, department=department, reopened=True)
            return
        self._nightly_archive(s)

    def _nightly_archive(self, s: _Script) -> None:
        """The system archives closed cases in its nightly run (02:00 local)."""
        day = _local(s.at).date() + timedelta(days=1)
        at = datetime.combine(day, time(2), tzinfo=SHANGHAI) + timedelta(
            seconds=self.rng.randrange(600)
        )
        s.step(Status.ARCHIVED, Command(Step.ARCHIVE, SYSTEM_ACTOR, Role.SYSTEM, at))


# --- intakes ------------------------------------------------------------------------------------


def _template(rng: random.Random, table: tuple[_T, ...]) -> tuple[str, str]:
    code, _, templates = _pick(rng, [(row, float(row[1])) for row in table])
    return code, rng.choice(templates)


def _sentence(text: str) -> str:
    """``text`` ending with a punctuation mark, so that another sentence can follow it."""
    return text if text[-1:] in "？。！" else text + "。"


def _urgency(rng: random.Random, category: str) -> Urgency:
    if category in _CRITICAL_CATEGORIES:
        return Urgency.CRITICAL
    if category in _URGENT_CATEGORIES:
        return Urgency.URGENT
    if category.startswith("10") and rng.random() < 0.3:
        return Urgency.URGENT
    return Urgency.URGENT if rng.random() < 0.02 else Urgency.NORMAL


class _Intakes:
    """Draws intakes (content, caller, address) and what will happen to them."""

    def __init__(self, world: _World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        # Repeat callers (the caller-history screen): a small pool that calls again and again.
        self.regulars = [_caller(rng) for _ in range(40)]
        self.county_agents = {
            u.platform: u.user_id
            for u in world.users
            if u.role is Role.AGENT and u.platform != CITY
        }
        self.platform_county = {p.code: p.county for p in world.ref.platforms if p.county}
        self.city_agents = [
            u.user_id for u in world.users if u.role is Role.AGENT and u.platform == CITY
        ]

    def draw(self) -> tuple[Intake, _Plan, str]:
        """An intake (validated), its plan and the platform that registered it."""
        rng = self.rng
        world = self.world
        places = world.places
        platform = CITY
        agent = rng.choice(self.city_agents)
        county = _pick(rng, places.county_weights)
        if rng.random() < 0.05:
            platform = rng.choice(sorted(self.county_agents))
            agent = self.county_agents[platform]
            county = self.platform_county[platform]
        appeal_type = _pick(rng, _APPEAL_MIX)
        plan_extra: dict[str, str] = {}
        refusals = [r for r in _REFUSALS if r[2] is appeal_type]
        if refusals and rng.random() < 0.06:  # ~3% of all calls are out of scope
            template, reason, _, category = rng.choice(refusals)
            plan_extra["refusal_reason"] = reason
        elif appeal_type is AppealType.INQUIRY:
            template, category, answer = self._inquiry()
            if answer:
                plan_extra["resolve_answer"] = answer
        else:
            category, template = _template(rng, _TEMPLATES[appeal_type])
        street = category in _STREET_CATEGORIES
        address, ctx = _address(rng, places, template, county, street=street)
        content = template.format(**ctx)
        if appeal_type is AppealType.INQUIRY and rng.random() < 0.6:
            address = Address(county=county)
        channel = _pick(rng, _CHANNELS)
        anonymous = (
            appeal_type not in (AppealType.HELP, AppealType.PRAISE, AppealType.INQUIRY)
            and rng.random() < 0.04
        )
        caller = rng.choice(self.regulars) if rng.random() < 0.07 else _caller(rng)
        confidential = not anonymous and rng.random() < 0.08
        intake = Intake(
            appeal_type=appeal_type,
            content=content,
            channel=channel,
            urgency=_urgency(rng, category),
            caller_phone="" if anonymous else caller.phone,
            caller_name="" if anonymous else caller.name,
            gender=Gender.UNKNOWN if anonymous else caller.gender,
            confidential=confidential,
            anonymous=anonymous,
            category=category,
            address=address,
        )
        intake = validate_intake(intake, known_categories=world.known_categories)
        plan = _Plan(
            appeal_type=appeal_type,
            category=category,
            urgency=intake.urgency,
            anonymous=anonymous,
            agent=agent,
            resolve_answer=plan_extra.get("resolve_answer", ""),
            refusal_reason=plan_extra.get("refusal_reason", ""),
            leader=channel is Channel.LEADER,
        )
        return intake, plan, platform

    def _inquiry(self) -> tuple[str, str, str]:
        """(content template, category, answer if resolved directly from the knowledge base)."""
        rng = self.rng
        world = self.world
        if rng.random() < 0.8:
            category = rng.choice(sorted(world.knowledge_by_category))
            title, answer = rng.choice(world.knowledge_by_category[category])
            if rng.random() < 0.5:  # ~40% of all inquiries are answered on the call
                return f"来电咨询：{_sentence(title)}{rng.choice(_INQUIRY_TAILS)}", category, answer
        else:
            category = rng.choice(world.inquiry_categories)
            leaf = world.ref.category(category)
            title = f"{leaf.name if leaf else ''}相关政策和办理流程"
        return f"来电咨询：{_sentence(title)}{_INQUIRY_DISPATCH_TAIL}", category, ""


# --- registration times -------------------------------------------------------------------------


def _hour_slots(now: datetime, days: int) -> tuple[list[datetime], list[float]]:
    """Every local hour of the last ``days`` days up to ``now``, with its share of the calls."""
    local_now = _local(now)
    first_day = local_now.date() - timedelta(days=days - 1)
    slots: list[datetime] = []
    weights: list[float] = []
    for offset in range(days):
        day: date = first_day + timedelta(days=offset)
        day_weight = 0.65 if day.weekday() >= 5 else 1.0
        for hour in range(24):
            start = datetime.combine(day, time(hour), tzinfo=SHANGHAI)
            if start >= local_now:
                break
            share = min(1.0, (local_now - start) / timedelta(hours=1))
            slots.append(start)
            weights.append(day_weight * _HOUR_WEIGHTS[hour] * share)
    return slots, weights


def _registration_times(rng: random.Random, now: datetime, days: int, count: int) -> list[datetime]:
    slots, weights = _hour_slots(now, days)
    times: list[datetime] = []
    for start in rng.choices(slots, weights, k=count):
        limit = min(timedelta(hours=1), now - start)
        times.append(start + timedelta(seconds=int(rng.random() * limit.total_seconds())))
    return sorted(times)


# --- stories: a hot spot and related cases ------------------------------------------------------

#: The hot spot (热点) the lead's console shows: a stretch of road whose street lights went out,
#: reported by several callers within a day (``{place}``: the road and a direction).
_HOTSPOT_CATEGORY = "0107"
# fmt: off
_HOTSPOT_TEXTS = (
    "{place}一段路灯从昨天晚上开始全部不亮，晚上漆黑一片，行人和电动车出行很不安全",
    "{place}整段路灯都熄灭了，晚上下班骑电动车经过很害怕，希望尽快修复",
    "{place}路灯不亮，昨晚有人骑电动车在路边摔倒了，存在安全隐患",
    "来电人每天晚上在{place}散步，这两天路灯全都不亮，老人孩子出行不便",
    "{place}路灯不亮，路边还有施工围挡，夜间很容易发生事故，请尽快处理",
    "{place}一排路灯都不亮，周边商户反映天黑后没人敢来，希望相关部门尽快维修",
)
# fmt: on
_HOTSPOT_DIRECTIONS = ("中段", "东侧", "西侧", "路口", "附近")
#: Related cases (关联工单): a matter reported again by other callers within days, each later case
#: linked at intake to the first. (category, where, texts): where is "road" (``{place}``, a road
#: with a direction) or "village" (``{village}``); the first caller's text, then the others'.
# fmt: off
_RELATED_STORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("0109", "road", (
        "{place}下水道堵塞，雨后积水漫到非机动车道",
        "{place}窨井往外冒污水，路面一片污水，臭味很大，行人只能绕行",
        "{place}下水道返水好几天了，附近商户门口全是污水，希望尽快疏通",
    )),
    ("0106", "village", (
        "{village}垃圾堆放点长期无人清理，气味难闻，希望尽快清运",
        "{village}村口垃圾堆了半个多月没人拉走，天一热臭味很大，招来很多苍蝇",
        "{village}垃圾池满了往外溢，风一吹垃圾满地都是，村民意见很大",
    )),
    ("0303", "road", (
        "{place}工地夜间施工，搅拌车和打桩声音很大，严重影响周边居民休息",
        "{place}附近工地晚上十一点以后还在打桩，孩子第二天要上学，根本睡不着",
        "{place}工地连续几天通宵施工，渣土车进进出出，没有看到夜间施工许可公示",
    )),
    ("0409", "village", (
        "{village}通村道路破损严重，坑洼积水，群众出行困难",
        "{village}村里的水泥路被重车压坏了，坑坑洼洼，下雨天电动车都骑不过去",
        "{village}到镇上的村道塌了一段，学生上学只能绕远路，希望尽快修复",
    )),
)
# fmt: on
#: Sets smaller than this (or spanning less than a week) get no stories.
_STORY_MIN_COUNT = 60
_STORY_MIN_DAYS = 7


@dataclass(frozen=True)
class _StoryPlan:
    """How many cases each story has: the hot spot's, then each related group's."""

    hotspot: int
    groups: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.hotspot + sum(self.groups)


def _story_plan(rng: random.Random) -> _StoryPlan:
    return _StoryPlan(
        hotspot=rng.randint(4, 6), groups=tuple(rng.randint(2, 3) for _ in _RELATED_STORIES)
    )


def _times_between(rng: random.Random, start: datetime, end: datetime, k: int) -> list[datetime]:
    """``k`` times in [start, end), in busy hours more likely (``_HOUR_WEIGHTS``), in order."""
    slots: list[tuple[datetime, datetime]] = []
    weights: list[float] = []
    hour = _local(start).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        low, high = max(hour, start), min(hour + timedelta(hours=1), end)
        if high > low:
            slots.append((low, high))
            weights.append(_HOUR_WEIGHTS[hour.hour] * ((high - low) / timedelta(hours=1)))
        hour += timedelta(hours=1)
    picked = rng.choices(slots, weights, k=k)
    return sorted(
        low + timedelta(seconds=int(rng.random() * (high - low).total_seconds()))
        for low, high in picked
    )


def _open_until(case: DemoCase, statuses: Sequence[Status], now: datetime) -> datetime:
    """When ``case`` first left the open states (``now`` if it never did)."""
    for command, status in zip(case.steps, statuses, strict=True):
        if status not in OPEN_STATUSES:
            return command.at
    return now


class _Stories:
    """The demo's stories, drawn apart from the other cases (their own random stream): a hot spot
    in the last 24 hours and a few groups of related cases, each at a place where no other case
    of its category is, so that the rules find exactly what the story tells."""

    def __init__(
        self, world: _World, rng: random.Random, now: datetime, taken: set[tuple[str, str, str]]
    ) -> None:
        self.world = world
        self.rng = rng
        self.now = now
        self.taken = taken  # (category, county, place) of the other cases
        self.generator = _Generator(world, rng, now)
        self.agents = [
            u.user_id for u in world.users if u.role is Role.AGENT and u.platform == CITY
        ]

    def all(self, plan: _StoryPlan) -> list[tuple[DemoCase, list[Status]]]:
        out = self.hotspot(plan.hotspot)
        for (category, where, texts), size in zip(_RELATED_STORIES, plan.groups, strict=True):
            out += self.group(category, where, texts, size)
        return out

    def hotspot(self, size: int) -> list[tuple[DemoCase, list[Status]]]:
        """``size`` callers report the same road's lights out within the last day; the later
        cases are linked to the first while it is open."""
        rng = self.rng
        county, _, road = self._place(_HOTSPOT_CATEGORY, "road")
        times = _times_between(
            rng, self.now - timedelta(hours=23), self.now - timedelta(minutes=10), size
        )
        out: list[tuple[DemoCase, list[Status]]] = []
        head_open_until = self.now
        for at, text in zip(times, rng.sample(_HOTSPOT_TEXTS, size), strict=True):
            direction = rng.choice(_HOTSPOT_DIRECTIONS)
            address = Address(county=county, road=road, detail=direction)
            linked = out[0][0].uuid if out and at < head_open_until else ""
            story = self._case(
                _HOTSPOT_CATEGORY, text.format(place=road + direction), address, at, linked
            )
            if not out:
                head_open_until = _open_until(*story, self.now)
            out.append(story)
        return out

    def group(
        self, category: str, where: str, texts: tuple[str, ...], size: int
    ) -> list[tuple[DemoCase, list[Status]]]:
        """A first case 30 hours to 6 days ago, and ``size - 1`` later ones at the same place,
        registered while it is open and within the window, linked to it."""
        rng = self.rng
        now = self.now
        county, township, name = self._place(category, where)
        linked = ""
        for _ in range(20):  # a first case still open long enough for the others to call
            head = self._group_case(category, county, township, name, where, texts[0], None)
            start = head[0].registered_at + timedelta(minutes=40)
            end = min(
                _open_until(*head, now),
                head[0].registered_at + RELATED_WINDOW - timedelta(hours=1),
                now - timedelta(minutes=10),
            )
            if end - start >= timedelta(hours=2):
                linked = head[0].uuid
                break
        else:  # pragma: no cover - the later callers still call, unlinked
            end = now - timedelta(minutes=10)
        out = [head]
        for at, text in zip(_times_between(rng, start, end, size - 1), texts[1:], strict=False):
            out.append(self._group_case(category, county, township, name, where, text, at, linked))
        return out

    def _group_case(
        self,
        category: str,
        county: str,
        township: str,
        name: str,
        where: str,
        text: str,
        at: datetime | None,
        related_to: str = "",
    ) -> tuple[DemoCase, list[Status]]:
        if at is None:
            at = _times_between(
                self.rng, self.now - timedelta(days=6), self.now - timedelta(hours=30), 1
            )[0]
        if where == "road":
            direction = self.rng.choice(_DIRECTIONS)
            address = Address(county=county, road=name, detail=direction)
            content = text.format(place=name + direction)
        else:
            address = Address(county=county, township=township, village=name)
            content = text.format(village=name)
        return self._case(category, content, address, at, related_to)

    def _place(self, category: str, where: str) -> tuple[str, str, str]:
        """(county, township, road or village) where no other case of ``category`` is."""
        rng = self.rng
        places = self.world.places
        free: dict[str, list[tuple[str, str]]] = {}
        for county, _ in places.county_weights:
            if where == "road":
                names = [("", road) for road in places.roads.get(county, ())]
            else:
                names = [tv for tv in places.villages.get(county, ()) if not tv[1].endswith("社区")]
            ok = [(t, n) for t, n in names if (category, county, n) not in self.taken]
            if ok:
                free[county] = ok
        county = _pick(rng, [(c, w) for c, w in places.county_weights if c in free])
        township, name = rng.choice(free[county])
        self.taken.add((category, county, name))
        return county, township, name

    def _case(
        self, category: str, content: str, address: Address, at: datetime, related_to: str = ""
    ) -> tuple[DemoCase, list[Status]]:
        rng = self.rng
        channel = _pick(rng, _CHANNELS)
        caller = _caller(rng)
        intake = validate_intake(
            Intake(
                appeal_type=AppealType.COMPLAINT,
                content=content,
                channel=channel,
                urgency=_urgency(rng, category),
                caller_phone=caller.phone,
                caller_name=caller.name,
                gender=caller.gender,
                confidential=rng.random() < 0.08,
                category=category,
                address=address,
            ),
            known_categories=self.world.known_categories,
        )
        plan = _Plan(
            appeal_type=AppealType.COMPLAINT,
            category=category,
            urgency=intake.urgency,
            anonymous=False,
            agent=rng.choice(self.agents),
            leader=channel is Channel.LEADER,
        )
        script = self.generator.script(plan, intake, at)
        case = DemoCase(
            uuid=_uuid(rng),
            intake=intake,
            agent=plan.agent,
            platform=CITY,
            registered_at=at,
            steps=tuple(script.steps),
            related_to=related_to,
        )
        return case, script.statuses


# --- the whole set ------------------------------------------------------------------------------


def _ensure_every_status(
    cases: list[DemoCase], statuses: list[list[Status]], keep: frozenset[int] = frozenset()
) -> list[DemoCase]:
    """Stop a few cases short so that every status shows at least ``_MIN_PER_STATUS`` times.

    Transient states (a return waiting for the lead, a callback just made) rarely hold at the
    instant ``now``; the case that most recently passed through such a state is cut there, as if
    its next step had not been taken yet. The cases at ``keep`` (the stories) are never cut.
    Deterministic: the choice depends on the data only.
    """
    final = [trail[-1] if trail else Status.REGISTERED for trail in statuses]
    counts = Counter(final)
    for status in Status:
        while counts[status] < _MIN_PER_STATUS:
            best: tuple[datetime, int, int] | None = None
            for index, (case, trail) in enumerate(zip(cases, statuses, strict=True)):
                if (
                    index in keep
                    or final[index] == status
                    or counts[final[index]] <= _MIN_PER_STATUS
                ):
                    continue
                positions = [-1] if status is Status.REGISTERED else []
                positions += [i for i, st in enumerate(trail) if st is status]
                for position in positions:
                    at = case.registered_at if position < 0 else case.steps[position].at
                    if best is None or at > best[0]:
                        best = (at, index, position)
            if best is None:
                break
            _, index, position = best
            case = cases[index]
            cases[index] = replace(case, steps=case.steps[: position + 1])
            statuses[index] = statuses[index][: position + 1]
            counts[final[index]] -= 1
            final[index] = status
            counts[status] += 1
    return cases


def generate_demo(
    now: datetime, count: int = 3000, seed: int = 12345, days: int = 30
) -> list[DemoCase]:
    """``count`` cases registered over the ``days`` days before ``now`` (aware), in time order,
    each with every step it took up to ``now``. Deterministic in (now, count, seed, days).

    Among them (unless the set is tiny) the stories the lead's screens are for: a hot spot in
    the last 24 hours (street lights out along one road, 4–6 callers) and related groups (a
    later caller's case linked to an open one of the same category at the same place)."""
    require_aware(now, "now")
    if count < 0 or days < 1:
        raise ValueError("count must be >= 0 and days >= 1")
    world = _world()
    rng = random.Random(seed)
    story_rng = random.Random(f"demo-stories-{seed}")
    plan = _story_plan(story_rng)
    if count < _STORY_MIN_COUNT or days < _STORY_MIN_DAYS:
        plan = _StoryPlan(0, ())
    intakes = _Intakes(world, rng)
    generator = _Generator(world, rng, now)
    cases: list[DemoCase] = []
    statuses: list[list[Status]] = []
    for registered_at in _registration_times(rng, now, days, count - plan.total):
        intake, case_plan, platform = intakes.draw()
        script = generator.script(case_plan, intake, registered_at)
        cases.append(
            DemoCase(
                uuid=_uuid(rng),
                intake=intake,
                agent=case_plan.agent,
                platform=platform,
                registered_at=registered_at,
                steps=tuple(script.steps),
            )
        )
        statuses.append(script.statuses)
    stories: list[tuple[DemoCase, list[Status]]] = []
    if plan.total:
        taken = {
            (c.intake.category, c.intake.address.county, _place_of(c.intake.address)) for c in cases
        }
        stories = _Stories(world, story_rng, now, taken).all(plan)
    story_ids = {case.uuid for case, _ in stories}
    merged = sorted(
        [*zip(cases, statuses, strict=True), *stories], key=lambda cs: cs[0].registered_at
    )
    per_day: Counter[date] = Counter()
    cases = []
    statuses = []
    for case, trail in merged:
        day = _local(case.registered_at).date()
        per_day[day] += 1
        cases.append(replace(case, number=f"ZMD-{day:%Y%m%d}-{per_day[day]:04d}"))
        statuses.append(trail)
    if count >= 500:
        keep = frozenset(i for i, c in enumerate(cases) if c.uuid in story_ids)
        cases = _ensure_every_status(cases, statuses, keep)
    return cases


def _place_of(address: Address) -> str:
    return place_of(address.village, address.road, address.township)


# -- the structured reply and the callback's answers ------------------------------------------
# Drawn from a hash of the step's time, not from the generator's random stream: the demo's
# other figures stay what they were before replies had structure.

_REPLY_OFFICERS = ("王强", "李红", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
_OUTCOMES = (
    (60, ReplyOutcome.RESOLVED),
    (80, ReplyOutcome.EXPLAINED),
    (90, ReplyOutcome.PARTLY),
    (95, ReplyOutcome.UNRESOLVED),
    (100, ReplyOutcome.UNFOUNDED),
)
_NOTES = ("已处理好了", "态度很好", "希望以后多巡查", "办得挺快", "")


def _stable(key: str) -> int:
    return zlib.crc32(key.encode())


def _structured_reply(key: str) -> dict[str, object]:
    h = _stable(key)
    roll = h % 100
    outcome = next(o for limit, o in _OUTCOMES if roll < limit)
    return {
        "outcome": outcome,
        "officer": _REPLY_OFFICERS[(h // 100) % len(_REPLY_OFFICERS)],
        "officer_phone": f"1390396{(h // 1000) % 10000:04d}",
    }


def _callback_answers(satisfaction: Satisfaction, key: str) -> tuple[Solved, str]:
    h = _stable(key)
    share = {Satisfaction.SATISFIED: 95, Satisfaction.BASIC: 70}.get(satisfaction, 10)
    solved = Solved.SOLVED if h % 100 < share else Solved.UNSOLVED
    note = "问题还没解决" if satisfaction is Satisfaction.DISSATISFIED else _NOTES[h % len(_NOTES)]
    return solved, note
