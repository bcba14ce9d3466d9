"""Fixed vocabularies with Chinese and English labels: facilities, hosts, entry, status, datums.

Keys are stable English identifiers stored in the database and used by the API. Input may use
the key, the Chinese label, the English label or a listed alias, in any case or width.
"""

from dataclasses import dataclass, field

from stations.core.text import match_key


@dataclass(frozen=True)
class Term:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Vocabulary:
    name: str
    terms: tuple[Term, ...]
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        for term in self.terms:
            for spelling in (term.key, term.zh, term.en, *term.aliases):
                self._index[match_key(spelling)] = term.key
                self._index[spelling] = term.key

    def parse(self, value: str) -> str | None:
        """The key for value, or None when value names no term."""
        found = self._index.get(value)  # exact spelling first: most input is already a key
        return found if found is not None else self._index.get(match_key(value))

    def keys(self) -> list[str]:
        return [t.key for t in self.terms]

    def label(self, key: str, lang: str = "zh") -> str:
        for term in self.terms:
            if term.key == key:
                return term.label(lang)
        return key

    def choices(self) -> str:
        """The accepted values, for error messages."""
        return ", ".join(f"{t.key} ({t.zh})" for t in self.terms)


FACILITIES = Vocabulary(
    "facilities",
    (
        Term("drinking_water", "饮用水", "Drinking water", ("饮水", "饮水机", "water")),
        Term("hot_water", "热水", "Hot water", ("开水", "开水器")),
        Term("microwave", "微波炉", "Microwave", ("餐食加热", "加热")),
        Term("toilet", "卫生间", "Toilet", ("厕所", "洗手间", "如厕", "wc")),
        Term("rest_seating", "休息座椅", "Seating", ("桌椅", "桌凳", "座椅", "seating")),
        Term("air_conditioning", "空调", "Air conditioning", ("冷气", "纳凉", "ac")),
        Term("heating", "取暖", "Heating", ("暖气", "驱寒")),
        Term("phone_charging", "手机充电", "Phone charging", ("充电",)),
        Term("ebike_charging", "电动车充电", "E-bike charging", ("电瓶车充电", "电单车充电")),
        Term("battery_swap", "换电", "Battery swap", ("换电柜", "电池更换")),
        Term("first_aid_kit", "应急药箱", "First-aid kit", ("药箱", "医药箱", "急救箱")),
        Term("wifi", "无线网络", "Wi-Fi", ("wifi", "无线上网")),
        Term("reading_corner", "阅览角", "Reading corner", ("书报架", "图书角", "读书阅览")),
        Term("mother_baby_room", "母婴室", "Mother and baby room", ("哺乳室",)),
        Term("aed", "AED", "AED (defibrillator)", ("自动体外除颤器", "除颤仪")),
    ),
)

HOST_TYPES = Vocabulary(
    "host_type",
    (
        Term("gas_station", "加油站", "Filling station", ("加油加气站",)),
        Term("bank", "银行网点", "Bank branch", ("银行",)),
        Term("logistics", "物流网点", "Logistics depot", ("快递网点", "物流")),
        Term("community", "社区", "Community centre", ("社区服务中心", "党群服务中心")),
        Term("park", "公园", "Park"),
        Term("mall", "商场", "Shopping centre", ("商超", "超市")),
        Term("transit", "交通场站", "Transport hub", ("公交场站", "车站")),
        Term("other", "其他", "Other", ("其它",)),
    ),
)

ENTRY_METHODS = Vocabulary(
    "entry_method",
    (
        Term("open_door", "开门即入", "Walk in", ("直接进入", "open")),
        Term("staffed", "有人值守", "Staffed", ("值守",)),
        Term("qr_scan", "扫码开门", "Scan QR code", ("扫码",)),
        Term("face_id", "刷脸/刷证开门", "Face or ID card", ("刷脸", "刷证", "刷卡")),
        Term("ask_key", "找管理员取钥匙", "Ask for the key", ("取钥匙", "钥匙")),
    ),
)

STATUSES = Vocabulary(
    "status",
    (
        Term("planned", "筹建中", "Planned", ("规划", "在建")),
        Term("open", "开放", "Open", ("运营", "正常", "启用")),
        Term("temporarily_closed", "暂停开放", "Temporarily closed", ("暂停", "暂时关闭")),
        Term("closed", "已关闭", "Closed", ("关闭", "撤销", "停用")),
    ),
)

DATUMS = Vocabulary(
    "crs",
    (
        Term("wgs84", "WGS-84", "WGS-84", ("gps", "epsg4326", "4326", "cgcs2000", "天地图")),
        Term("gcj02", "GCJ-02", "GCJ-02", ("高德", "腾讯", "amap", "gaode", "tencent", "火星")),
        Term("bd09", "BD-09", "BD-09", ("百度", "baidu", "bd09ll")),
    ),
)

# Brands seen in practice; the field is free text, these are suggestions and the seed mix.
BRANDS = ("工会驿站", "户外劳动者服务站点", "骑手驿站", "爱心驿站", "劳动者港湾", "暖心驿站")

# -- staff vocabularies: what the registry's workflow states are called on pages and exports --

REPORT_STATES = Vocabulary(
    "report_state",
    (
        Term("new", "待处理", "New"),
        Term("acknowledged", "处理中", "Acknowledged"),
        Term("resolved", "已解决", "Resolved"),
        Term("rejected", "无效（垃圾信息）", "Rejected as spam"),
    ),
)

VISIT_KINDS = Vocabulary(
    "visit_kind",
    (
        Term("scheduled", "计划核查", "Scheduled"),
        Term("unannounced", "暗访", "Unannounced"),
    ),
)

AUDIT_RESULTS = Vocabulary(
    "result",
    (
        Term("pass", "符合", "Pass"),
        Term("fail", "不符合", "Fail"),
        Term("na", "不适用", "Not applicable"),
    ),
)

CHANGE_ACTIONS = Vocabulary(
    "action",
    (
        Term("create", "新建", "Created"),
        Term("update", "修改", "Edited"),
        Term("import", "导入", "Imported"),
        Term("confirm", "确认信息无误", "Confirmed as correct"),
        Term("audit", "核查", "Audited"),
    ),
)

# -- accounts: what a staff account's role is called on the staff pages --

STAFF_ROLES = Vocabulary(
    "role",
    (
        Term("admin", "管理员", "Administrator"),
        Term("auditor", "核查员", "Auditor"),
        Term("viewer", "只读", "Viewer"),
    ),
)
