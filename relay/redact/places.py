"""Quasi-identifiers the design says never leave: a dormitory room, a production line, a shift, a
department ("宿舍B栋305", "line 3", "夜班", "tổ 3"), the mention only."""

from __future__ import annotations

import re

from relay.redact.core import _P_QUASI, _Cand
from relay.text import _B, _CNNUM, _E, _HAN, _kw

_NUMWORD = r"(?:(?i:no\.?|nr\.?|n[º°o]\.?|number|numero|número|num\.?|số|č\.|#|№)\s*)?"
_NOT_HOURS = r"(?!\s*(?i:h\b|hours?|hrs?|giờ|tiếng|horas?|jam|oras|heures?|hodin|godzin|годин|часов|小时))"
_DES = (
    rf"(?:[A-Z]{{1,3}}[- ]?\d{{1,4}}[A-Z]?|\d{{1,4}}(?:[-/]\d{{1,4}})?[A-Z]?|[A-ZА-ЯІЇЄҐ])(?![A-Za-z0-9]){_NOT_HOURS}"
)
_DES_CN = rf"(?:[A-Za-z]{{1,3}}-?\d{{0,4}}|\d{{1,4}}[A-Za-z]?|{_CNNUM})"
_D_CN = rf"(?:第\s*{_DES_CN}\s*[号號条條]?|(?:{_DES_CN})\s*[号號]|[A-Za-z]{{1,3}}\d{{0,4}}|\d{{1,4}}[A-Za-z]?)"
_AFTER_CN = r"(?![人个個名天小时時年月日元块塊岁歲次线線班组組车車拉])"

# Chinese mentions led by a designator ("3号宿舍楼202室", "B栋305", "A线", "第三车间"): looked for only
# around their keyword, ``re`` being slow to try a designator at every letter and digit of a text.
_CN_TRIGGER = re.compile("宿舍|寝室|寢室|[线線栋棟幢座楼樓组組]|车间|車間|工段")
_DORMITORY_CN = (
    rf"(?:{_DES_CN}[号號]?)?(?:员工|員工)?(?:宿舍楼|宿舍樓|宿舍区|宿舍區|宿舍|寝室|寢室)"
    rf"(?:[\s:：#\-]*{_DES_CN}(?:号楼|號樓|号房|號房|[号號栋棟幢座楼樓层層单元區区室房间間])?{_AFTER_CN}){{1,4}}"
    "|"
    rf"(?:{_DES_CN}[区區]\s*)?{_DES_CN}(?:号楼|號樓|[栋棟幢座])(?:[\s\-]*{_DES_CN}(?:号房|號房|[号號室房层層楼樓]|单元)?{_AFTER_CN}){{0,3}}"
)
_LINE_CN = rf"{_D_CN}\s*(?:生产线|生產線|产线|產線|流水线|流水線|拉线|拉線|线|線)"
_DEPARTMENT_CN = rf"(?:{_D_CN}\s*(?:车间|車間|工段|班组|班組|组|組)|{_CNNUM}(?:车间|車間)){_AFTER_CN}"
_DORMITORY_PARTS = (
    r"(?<![0-9])\d{3,4}(?:号房|號房|[室房])",
    _B
    + _kw(
        r"dorm(?:itory)?|hostel|room|rm\.?|ký\s+túc\s+xá|ktx|phòng|nhà\s+trọ|dãy\s+trọ|habitación|"
        r"habitacion|cuarto|dormitorio|albergue|chambre|foyer|dortoir|asrama|kamar|bilik|kuwarto|kwarto|silid|"
        r"dormitoryo|pokoj|pokoji|ubytovna|ubytovně|pokój|pokoju|akademik|hotel\s+pracowniczy|кімнат\w*|"
        r"гуртожит\w*|комнат\w*|общежит\w*|कमरा|हॉस्टल|छात्रावास|หอพัก|ห้อง"
    )
    + _E
    + r"(?:\s*[,:]?\s*(?:(?i:block|blk\.?|building|bldg\.?|floor|fl\.?|room|rm\.?|unit|khu|dãy|tòa|toà|nhà|"
    r"tầng|lầu|phòng|edificio|bloque|piso|cuarto|habitación|bâtiment|bloc|étage|blok|gedung|lantai|gusali|"
    rf"budova|patro|budynek|piętro|корпус|поверх|этаж|ตึก|อาคาร|ชั้น)\s*)?{_NUMWORD}{_DES}){{1,3}}",
)
_LINE_PARTS = (
    rf"(?:生产线|生產線|产线|產線|流水线|流水線|拉线|拉線)\s*[:：#\-]?\s*(?:{_DES_CN}|{_CNNUM})[号號]?",
    rf"{_B}(?=[AaPpSsTtCcWwMmLlDdЛллलไ])(?:(?i:assembly|production|prod\.?|packing|packaging|smt|test(?:ing)?|"
    r"sewing|cutting|welding|molding|moulding|painting)\s+)?(?i:line|línea|linea|dây\s+chuyền|chuyền|lini|linya|"
    rf"ligne|linka|lince|linia|linii|лінія|лінії|линия|линии|लाइन|ไลน์){_E}\s*(?:(?i:de\s+(?:ensamble|producción|produccion|montaje|"
    rf"empaque)|sản\s+xuất|lắp\s+ráp)\s*)?{_NUMWORD}(?!I(?![A-Za-z0-9])){_DES}",
)
_SHIFT_PARTS = (
    r"(?:大夜班|小夜班|[早中晚夜白]班)(?:\s*[A-Za-z0-9]班)?",
    r"(?<![A-Za-z0-9])[A-Za-z]班(?![组組])",
    rf"{_B}(?i:(?:day|night|morning|evening|afternoon|graveyard|swing|early|late|first|second|third|1st|2nd|"
    rf"3rd|overnight)\s+shift){_E}(?:\s*{_NUMWORD}{_DES})?",
    rf"{_B}(?i:shift){_E}\s*{_NUMWORD}{_DES}",
    rf"(?<![A-Za-z0-9])[B-HJ-Z]\s+(?i:shift){_E}",
    rf"{_B}(?i:ca\s+(?:đêm|ngày|sáng|chiều|tối|khuya|gãy|hành\s+chính)){_E}(?:\s*{_NUMWORD}{_DES})?",
    rf"{_B}(?i:ca){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:turno\s+(?:de\s+(?:la\s+)?(?:noche|día|dia|mañana|manana|tarde)|nocturno|diurno|matutino|"
    rf"vespertino|mixto)){_E}(?:\s*{_DES})?",
    rf"{_B}(?i:turno){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:shift|sif)\s+(?:malam|pagi|siang|sore|petang)){_E}(?:\s*{_DES})?",
    rf"{_B}(?i:panggabi|pang-gabi|(?:équipe|poste)\s+de\s+(?:nuit|jour|matin|soir|l['’]après-midi)){_E}",
    rf"{_B}(?i:équipe){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:noční|denní|ranní|odpolední)\s+směn\w*|(?:nocn|dzienn|porann|popołudniow)\w*\s+zmian\w*|"
    r"zmian\w*\s+(?:nocn|dzienn|porann|popołudniow)\w*|змін\w*\s+(?:нічн|денн)\w*|смен\w*\s+(?:ночн|дневн)\w*)",
    rf"{_B}(?i:směn[aěuy]|zmian[aęiy]|змін[аиіу]|смен[аыу]){_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}(?i:(?:нічн|денн|ранков|вечірн|ночн|дневн|утренн|вечерн)\w*\s+(?:змін|смен)\w*)",
    rf"(?:रात|दिन|सुबह|शाम)\s+की\s+(?:पाली|शिफ्ट)|(?:शिफ्ट|पाली)\s*{_DES}",
    r"กะ(?:ดึก|กลางคืน|เช้า|บ่าย|กลางวัน|\s?[A-Z0-9](?![A-Za-z0-9]))",
)
_DEPT_KNOWN_CN = (
    "冲压|沖壓|注塑|喷涂|噴塗|喷漆|噴漆|组装|組裝|装配|裝配|包装|包裝|焊接|电镀|電鍍|抛光|拋光|检测|檢測|测试|測試|成型|"
    "机加|機加|压铸|壓鑄|丝印|絲印|贴片|貼片|后段|後段|前段|总装|總裝|选矿|選礦|冶炼|冶煉|裁床|针车|針車|缝纫|縫紉|"
    "后道|印刷|模具|五金|品质|品質|质量|質量|品管|品保|生产|生產|人事|人力资源|人力資源|行政|工程|采购|採購|仓库|"
    "倉庫|仓储|倉儲|物流|财务|財務|研发|研發|技术|技術|销售|銷售|后勤|後勤|保安|设备|設備|制造|製造|计划|計劃|物料|"
    "IQC|OQC|IPQC|QC|QA|PMC|HR|SMT"
)
_DEPT_KNOWN = (
    "quality|qc|qa|hr|human\\s+resources|packing|packaging|assembly|warehouse|production|maintenance|engineering|"
    "finance|accounting|purchasing|logistics|security|cutting|sewing|finishing|molding|moulding|painting|welding|"
    "stamping|injection|testing|inspection|shipping|canteen|admin(?:istration)?|smt|electroplating|polishing|"
    "processing|smelting"
)
_DEPARTMENT_PARTS = (
    rf"(?:车间|車間|工段|班组|班組)\s*[:：#\-]?\s*(?:{_DES_CN})[号號]?{_AFTER_CN}",
    rf"(?:{_DEPT_KNOWN_CN})(?:车间|車間|部门|部門|工段|部|课|課|科|组|組|处|處)",
    rf"(?:部门|部門)\s*[:：是为為]\s*[{_HAN}A-Za-z]{{1,6}}?(?:部|课|課|科|组|組|车间|車間)",
    _B
    + _kw(
        r"department|dept\.?|workshop|section|division|team|unit|group|zone|cell|area|bay|hall|"
        r"workstation|station|departamento|depto\.?|sección|seccion|taller|nave|módulo|modulo|célula|celula|"
        r"equipo|tổ|nhóm|xưởng|phân\s+xưởng|bộ\s+phận|atelier|service|département|secteur|bagian|departemen|divisi|"
        r"jabatan|seksyen|regu|kelompok|seksyon|oddělení|dílna|dílně|hala|hale|úsek|úseku|dział|dziale|wydział|"
        r"wydziale|hali|brygada|brygadzie|відділ|відділі|цех|цеху|дільниця|дільниці|бригада|бригаді|отдел|"
        r"отделе|участок|участке|विभाग|แผนก"
    )
    + rf"{_E}\s*{_NUMWORD}{_DES}",
    rf"{_B}{_kw(_DEPT_KNOWN)}\s+(?i:department|dept\.?|workshop|section|division|team|unit|area){_E}",
    rf"{_B}(?i:department|dept\.?|division|section)\s+of\s+[A-Za-z]+",
    _B + _kw(r"departamento|depto\.?|sección|seccion|taller|service|département|atelier") + r"\s+"
    r"(?i:de|del|du|des|de\s+la|de\s+l['’]|ng)\s*[^\W\d_]+",
    _B + _kw(r"bộ\s+phận|phân\s+xưởng|xưởng|phòng|bagian|divisi|departemen") + r"\s+(?i:kho|qc|qa|may|cắt|hàn|sơn|"
    r"đóng\s+gói|lắp\s+ráp|kiểm\s+tra|kiểm\s+hàng|nhân\s+sự|kế\s+toán|bảo\s+vệ|in|ép|dập|hoàn\s+thiện|"
    rf"sản\s+xuất|kỹ\s+thuật|hành\s+chính|bảo\s+trì|thu\s+mua|smt|gudang|produksi|packing|jahit|potong|"
    rf"perakitan|finishing|cutting|sewing|assembly){_E}",
    r"แผนก\s*[\u0e00-\u0e7f]+",
)


_QUASI = tuple(
    (re.compile(part), kind)
    for parts, kind in (
        (_DORMITORY_PARTS, "dormitory"),
        (_LINE_PARTS, "line"),
        (_SHIFT_PARTS, "shift"),
        (_DEPARTMENT_PARTS, "department"),
    )
    for part in parts
)
_QUASI_CN = tuple(
    (re.compile(src), kind)
    for src, kind in ((_DORMITORY_CN, "dormitory"), (_LINE_CN, "line"), (_DEPARTMENT_CN, "department"))
)


def _quasi(norm: str) -> list[_Cand]:
    """Mentions of a dormitory room, production line, shift or department."""
    found: list[_Cand] = []
    for pattern, kind in _QUASI:
        found.extend((m.start(), m.end(), _P_QUASI, kind) for m in pattern.finditer(norm) if m.end() > m.start())
    windows: list[list[int]] = []
    for m in _CN_TRIGGER.finditer(norm):
        lo, hi = max(0, m.start() - 16), min(len(norm), m.end() + 48)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    for lo, hi in windows:
        for pattern, kind in _QUASI_CN:
            for m in pattern.finditer(norm, lo, hi):
                end = m.end()
                if end == hi < len(norm):  # cut short by the window: match again on the whole text
                    whole = pattern.match(norm, m.start())
                    end = whole.end() if whole else end
                if end > m.start():
                    found.append((m.start(), end, _P_QUASI, kind))
    return found
