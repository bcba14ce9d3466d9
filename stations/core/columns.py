"""Spreadsheet columns: the headers we read (Chinese or English) and the ones we write."""

from stations.core.text import match_key

# field -> (English header, Chinese header, other accepted spellings)
COLUMNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "code": ("code", "编号", ("站点编号", "驿站编号", "站点代码", "id_code")),
    "name": ("name", "名称", ("站点名称", "驿站名称", "station_name")),
    "address": ("address", "地址", ("详细地址", "站点地址")),
    "adcode": ("adcode", "行政区划代码", ("区划代码", "行政区代码", "区县代码")),
    "province": ("province", "省", ("省份",)),
    "city": ("city", "市", ("城市", "地市")),
    "district": ("district", "区县", ("区", "县", "区/县")),
    "host_type": ("host_type", "依托类型", ("依托单位类型", "场所类型", "host")),
    "brand": ("brand", "品牌", ("站点品牌", "站点类型")),
    "lon": ("lon", "经度", ("lng", "long", "longitude")),
    "lat": ("lat", "纬度", ("latitude",)),
    "crs": ("crs", "坐标系", ("datum", "坐标类型")),
    "coord_source": ("coord_source", "原始坐标系", ()),
    "source_lon": ("source_lon", "原始经度", ()),
    "source_lat": ("source_lat", "原始纬度", ()),
    "opening_hours": ("opening_hours", "开放时间", ("营业时间", "服务时间", "hours")),
    "facilities": ("facilities", "设施", ("服务设施", "配套设施")),
    "entry_method": ("entry_method", "进入方式", ("入站方式", "开门方式")),
    "status": ("status", "状态", ("运营状态",)),
    "closed_until": ("closed_until", "暂停至", ("恢复开放日期", "暂停开放至")),
    "manager_name": ("manager_name", "管理员", ("负责人", "联系人")),
    "manager_phone": ("manager_phone", "联系电话", ("负责人电话", "电话", "phone")),
    "verified_at": ("verified_at", "核实时间", ("最后核实", "verified")),
    "created_at": ("created_at", "创建时间", ()),
    "updated_at": ("updated_at", "更新时间", ()),
    "version": ("version", "版本", ()),
}

# Written on export, ignored on import: derived from other fields or kept by the system.
DERIVED = ("province", "city", "district", "created_at", "updated_at", "version")
STAFF_ONLY = ("manager_name", "manager_phone")
EXPORT_ORDER = tuple(COLUMNS)

_LOOKUP = {
    match_key(spelling): f
    for f, (en, zh, more) in COLUMNS.items()
    for spelling in (f, en, zh, *more)
}


def field_for(header: str) -> str | None:
    """The field a header names, or None for a column we do not know."""
    return _LOOKUP.get(match_key(header))


def header(field: str, lang: str = "en") -> str:
    en, zh, _ = COLUMNS[field]
    return zh if lang == "zh" else en


# What a person calls each field (the English headers above are machine keys).
_EN_LABELS = {
    "code": "Number",
    "name": "Name",
    "address": "Address",
    "adcode": "Area code",
    "province": "Province",
    "city": "City",
    "district": "District",
    "host_type": "Host",
    "brand": "Brand",
    "lon": "Longitude",
    "lat": "Latitude",
    "crs": "Coordinate system",
    "coord_source": "Entered in",
    "source_lon": "Longitude as entered",
    "source_lat": "Latitude as entered",
    "opening_hours": "Opening hours",
    "facilities": "Facilities",
    "entry_method": "How to get in",
    "status": "Status",
    "closed_until": "Closed until",
    "manager_name": "Manager",
    "manager_phone": "Phone",
    "verified_at": "Last verified",
    "created_at": "Created",
    "updated_at": "Updated",
    "version": "Version",
}


def label(field: str, lang: str = "zh") -> str:
    """A field's name for people: '开放时间' / 'Opening hours'; an unknown field as given."""
    if field not in COLUMNS:
        return field
    return COLUMNS[field][1] if lang.startswith("zh") else _EN_LABELS[field]
