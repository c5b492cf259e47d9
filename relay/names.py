"""Names in a complaint: people introducing themselves or named with a title ("my name is", 我叫,
"tôi tên là", "Mr. Chen", 刘主管, 老王), and the names the case already knows, found wherever they
appear (also inside Chinese text with no spaces). Spans are in the original text's coordinates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from relay.text import _B, _E, _HAN, _UNSPACED, _folded, _words

# --- self-introductions ------------------------------------------------------------------------------

_INTRO_STRONG = re.compile(
    rf"{_B}(?=[MmIiFfNnTtEeCcHhAaJjPpKkМмІіИи])(?i:my\s+name\s+is|my\s+name['’]s|i\s+am\s+called|i['’]m\s+called|"
    r"(?:full\s+)?name\s*:|"
    r"tôi\s+tên\s+là|tên\s+tôi\s+là|tôi\s+tên|em\s+tên\s+là|tên\s+em\s+là|em\s+tên|mình\s+tên\s+là|tên\s+mình\s+là|"
    r"con\s+tên\s+là|anh\s+tên\s+là|chị\s+tên\s+là|họ\s+(?:và\s+)?tên\s*:?|tên\s*:|"
    r"me\s+llamo|mi\s+nombre\s+es|nombre\s*:|je\s+m['’]appelle|mon\s+nom\s+est|nom\s*:|"
    r"nama\s+saya(?:\s+(?:adalah|ialah))?|nama\s+aku|nama\s*:|ang\s+pangalan\s+ko\s+ay|pangalan\s+ko\s+(?:ay\s+)?|"
    r"ako\s+si|jmenuji\s+se|jmenuju\s+se|jméno\s*:|nazywam\s+się|mam\s+na\s+imię|imię\s*:|мене\s+звати|"
    rf"меня\s+зовут|ім['’]я\s*:|имя\s*:){_E}"
)
_INTRO_WEAK = re.compile(
    rf"{_B}(?i:i\s+am|i['’]m|yo\s+soy|soy|tôi\s+là|em\s+là|mình\s+là|saya|aku|je\s+suis|jsem|jestem|я){_E}"
)
_INTRO_HAN_STRONG = re.compile(r"我的名字[是叫]|我名字[是叫]|我名叫|我叫|名字[是叫]|姓名\s*[:：是]?|我姓|本人姓")
_INTRO_HAN_WEAK = re.compile(r"我是|本人(?:是|叫)?")
# Other people, named with a courtesy title: "Mr. Chen", "anh Tuấn", "don Pedro", "Bu Siti".
_HONORIFIC = re.compile(
    rf"{_B}(?:(?:Mr|Mrs|Ms|Mx|Dr|Sr|Sra|Srta|Mme|Mlle)\.?|(?i:mister|miss|madam|madame|sir|señor|señora|señorita|"
    r"don|doña|monsieur|mademoiselle|pak|bapak|bu|ibu|mbak|mas|kak|encik|puan|ate|kuya|aling|mang|pan|pani|pane|"
    rf"paní|пан|пані|господин|госпожа)|[Aa]nh|[Cc]hị|[Cc]ô|[Cc]hú|[Bb]ác|[Ôô]ng|[Bb]à|[Ee]m|[Dd]ì|[Cc]ậu){_E}"
)
_HAN_TITLES = "主管|经理|經理|组长|組長|拉长|拉長|线长|線長|课长|課長|厂长|廠長|主任|老板|老闆|师傅|師傅"
_INTRO_OTHER = re.compile(
    r"(?:ผม|ฉัน|ดิฉัน|หนู)ชื่อ\s*(?P<thai>[\u0e00-\u0e7f]{1,20})|मेरा\s+नाम\s+(?P<hindi>[\u0900-\u097f]+)"
)

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_PARTICLES = _words("de del dela delos la las los van von der den bin binti bte da das do dos di du le ng")
_VN_SURNAMES = _words(
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý trịnh đinh lâm mai cao tạ lương trương "
    "hà thái tăng la kiều đào đoàn châu chu quách tống nguyen tran le pham hoang huynh vu vo dang bui do ho ngo "
    "duong ly trinh dinh lam truong luong dao doan"
)
_VN_STOP = _words(
    "và tôi em anh chị làm ở tại đang là của năm từ được bị có không đã sẽ này người công nhân việc hiện tuổi quê "
    "sống sinh muốn xin thì vì nên mà rồi cũng với cho đến về trong ngoài mỗi hôm ngày tháng ca tổ phòng bộ xưởng"
)
_NOT_NAMES = _words(
    "is not a an the unknown secret private confidential withheld no của là es est ist ay je jest adalah ialah "
    "tidak hidden anonymous anonimo anónimo anónima ẩn"
)
_NOT_NAMES_WEAK = _NOT_NAMES | _words(
    "very so also still just now here there from in at on with sorry afraid scared worried pregnant sick ill ok "
    "okay fine working writing calling going being really too only one muy también trabajador trabajadora obrero "
    "obrera una un el la de del công người em anh chị tôi vietnamese chinese filipino filipina indonesian malaysian "
    "thai mexican mexicana mexicano indian nepali burmese cambodian american british french czech polish ukrainian "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december"
)

_SURNAMES_CHARS = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付傅方邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤温康施牛樊葛邢安齐易乔伍庞颜倪"
    "庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍华喻祁蒲房滕屈饶牟艾"
    "尤阳穆卓古吉缪简连芦麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑"
    "迟邝張劉陳楊黃趙吳孫馬許鄭羅謝韓馮鄧蕭葉蘇呂盧鍾譚陸範賈韋鄒龔萬錢嚴湯溫齊喬龐顏聶魯嶽歐關蘭寧紀塗駱藍鮑華饒蘆麥婁"
    "竇衛閔鄔欒鄺"
)
_SURNAMES = frozenset(_SURNAMES_CHARS)
_COMPOUND_SURNAMES = _words(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 歐陽 司馬 諸葛 長孫 軒轅"
)
_NOT_HAN_NAMES = _words(
    "高中 初中 江西 江苏 安徽 吉林 宁夏 甘肃 云南 广西 万一 华人 金属 石头 黄色 周末 方便 安全 高兴 钟点 曾经 苏州 温州 常州 江门 龙华 龙岗 宁波 武汉 郑州 许昌 余姚 黎明 江湖 高温 高层 何时 "
    "孙子 马上"
)
_HAN_CHAR = re.compile(f"[{_HAN}]")
_HAN_STOP_LATER = frozenset("经說说让讓把对對给給也都又很不没沒要会會骂罵打扣罚罰每总總常就还還才曾再被")
_HAN_STOP = frozenset(
    "在是的了和与跟从今去来被已也都就还说因为所以但而并于到对把给向让叫做住工年岁歲人男女现目，。、！？；：,.!?;:\"'“”‘’（）()《》【】 \n\t"
)


def _particle_then_name(norm: str, pos: int) -> bool:
    """Whether name particles ("de la", "van") lead from ``pos`` to a capitalised word."""
    while norm[pos : pos + 1] == " ":
        m = _WORD.match(norm, pos + 1)
        if not m:
            return False
        if m.group()[0].isupper():
            return True
        if m.group().casefold() not in _PARTICLES:
            return False
        pos = m.end()
    return False


def _latin_name(norm: str, pos: int, strong: bool) -> tuple[int, int] | None:
    """The name at ``pos``: up to 4 capitalised words (with "de la"-like particles between).

    After a strong cue ("my name is") the first word may be lowercase, and a lowercase Vietnamese
    surname brings the next words along; after a weak one ("I'm") it must be capitalised.
    """
    while pos < len(norm) and norm[pos] in " \t:：-–":
        pos += 1
    words: list[re.Match[str]] = []
    lowercase_vn = False
    while len(words) < 4:
        m = _WORD.match(norm, pos)
        if not m:
            break
        word = m.group()
        folded = word.casefold()
        if not words:
            if folded in (_NOT_NAMES if strong else _NOT_NAMES_WEAK):
                return None
            if not word[0].isupper():
                if not strong:
                    return None
                lowercase_vn = folded in _VN_SURNAMES
        elif lowercase_vn:
            if folded in _VN_STOP or len(words) >= 3:
                break
        elif not word[0].isupper() and not (folded in _PARTICLES and _particle_then_name(norm, m.end())):
            break
        if len(word) == 1 and words:
            break
        words.append(m)
        gap = norm[m.end() : m.end() + 1]
        if gap != " ":
            break
        pos = m.end() + 1
    if not words:
        return None
    if words[-1].group().casefold() in _PARTICLES:
        words.pop()
    return (words[0].start(), words[-1].end()) if words else None


def _han_name(norm: str, pos: int, strong: bool) -> tuple[int, int] | None:
    """The Chinese name at ``pos``: up to 3 characters (4 with a two-character surname), stopping at
    punctuation and particles; after a weak cue ("我是") it must start with a surname.
    """
    while pos < len(norm) and norm[pos] in " :：":
        pos += 1
    if pos < len(norm) and norm[pos].isascii() and norm[pos].isalpha():
        return _latin_name(norm, pos, strong)
    compound = norm[pos : pos + 2] in _COMPOUND_SURNAMES
    limit = 4 if compound else 3
    end = pos
    while end < len(norm) and end - pos < limit and _HAN_CHAR.match(norm[end]) and norm[end] not in _HAN_STOP:
        if end - pos >= 2 and norm[end] in _HAN_STOP_LATER:
            break
        end += 1
    name = norm[pos:end]
    if not name:
        return None
    if not strong:
        first = name[1:] if name[0] in "小老阿" else name
        if len(name) < 2 or not (compound or first[:1] in _SURNAMES) or name[:2] in _NOT_HAN_NAMES:
            return None
    return pos, end


_HAN_TITLED = re.compile(f"[{_SURNAMES_CHARS}](?=(?:{_HAN_TITLES}|总|總|姐|哥|叔|阿姨))")  # 刘主管, 王总
_HAN_TITLE_FIRST = re.compile(f"(?:{_HAN_TITLES}|同事|工友|室友|老乡|老鄉)")  # 组长王小明
_HAN_SURNAME_IS = re.compile(f"(?<!百)姓[{_SURNAMES_CHARS}]")  # 主任姓刘
_HAN_FAMILIAR = re.compile(f"[老小阿][{_SURNAMES_CHARS}]")  # 老王, 小李, 阿陈
_NOT_FAMILIAR = _words("小于 小麦 小米 小龙 小康 小曲 老汤 老姜 老毛 老江 老方 老黄")


def _introductions(norm: str) -> list[tuple[int, int]]:
    """Names people give themselves, and names said with a title; as spans of ``norm``."""
    spans: list[tuple[int, int]] = []
    for pattern, finder, strong in (
        (_INTRO_STRONG, _latin_name, True),
        (_INTRO_WEAK, _latin_name, False),
        (_HONORIFIC, _latin_name, False),
        (_INTRO_HAN_STRONG, _han_name, True),
        (_INTRO_HAN_WEAK, _han_name, False),
        (_HAN_TITLE_FIRST, _han_name, False),
    ):
        for m in pattern.finditer(norm):
            span = finder(norm, m.end(), strong)
            if span:
                spans.append(span)
    for m in _INTRO_OTHER.finditer(norm):
        if m.group("thai"):
            spans.append(m.span("thai"))
        else:
            end = m.end("hindi")
            for w in re.finditer(r"\s+([\u0900-\u097f]+)", norm[end:]):
                if w.start() != 0 or w.group(1) in ("है", "हूँ", "हूं", "और") or w.end() > 40:
                    break
                end = m.end("hindi") + w.end()
            spans.append((m.start("hindi"), end))
    spans.extend(m.span() for m in _HAN_TITLED.finditer(norm))
    spans.extend((m.start() + 1, m.end()) for m in _HAN_SURNAME_IS.finditer(norm))
    spans.extend(m.span() for m in _HAN_FAMILIAR.finditer(norm) if m.group() not in _NOT_FAMILIAR)
    return spans


# --- known names ------------------------------------------------------------------------------------

_SPACED_EDGE = f"[^\\W{_UNSPACED}]"
_EDGE_CHAR = re.compile(_SPACED_EDGE)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")


@lru_cache(maxsize=256)
def _name_pattern(names: tuple[str, ...]) -> tuple[re.Pattern[str], frozenset[str]] | None:
    """One pattern for folded ``names`` (with their parts), and the short ones that need a capital.

    Names in scripts written without spaces match anywhere, with the given name of a 3-4 character
    Chinese name; others match as whole words, and so does each part (2 letters or more) of a name
    of several words.
    """
    spaced: set[str] = set()
    unspaced: set[str] = set()
    short: set[str] = set()
    for name in names:
        tokens = name.split()
        compact = "".join(tokens)
        if sum(c.isalpha() for c in compact) < 2:
            continue
        if all(re.match(f"[{_UNSPACED}]", c) or not c.isalpha() for c in compact):
            unspaced.add(compact)
            if len(compact) in (3, 4):
                unspaced.add(compact[-2:])
            continue
        spaced.add(r"[\s\-]+".join(re.escape(t) for t in tokens))
        if len(tokens) == 1 and len(compact) <= 3:  # "An" alone: not the "an" of "an toàn"
            short.add(compact)
        if len(tokens) > 1:
            for t in tokens:
                letters = sum(c.isalpha() for c in t)
                if letters >= 2:
                    spaced.add(re.escape(t))
                    if letters <= 3:
                        short.add(t)
    if not spaced and not unspaced:
        return None
    # Word edges are checked in :func:`_names`, not by look-arounds in the pattern: a look-around
    # on this character class costs ~3 ms to compile per name, and every text now has its own names.
    alternatives = [*spaced, *(re.escape(u) for u in unspaced)]
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(alternatives)), frozenset(short)


def _names(text: str, names: Iterable[str]) -> list[tuple[int, int]]:
    """Where ``names`` occur in ``text``, folded alike (case, width, Latin diacritics)."""
    folded_names = tuple(sorted({_folded(n.strip()).text for n in names if n and n.strip()}))
    compiled = _name_pattern(folded_names) if folded_names else None
    if compiled is None:
        return []
    pattern, short = compiled
    folded = _folded(text)
    spans: list[tuple[int, int]] = []
    ftext = folded.text
    for m in pattern.finditer(ftext):
        a, b = m.span()
        if not _UNSPACED_CHAR.match(ftext, a) and (
            (a > 0 and _EDGE_CHAR.match(ftext, a - 1)) or (b < len(ftext) and _EDGE_CHAR.match(ftext, b))
        ):
            continue  # a spaced-script name inside a longer word
        start, end = folded.span(a, b)
        if m.group() in short and not text[start].isupper():
            continue
        spans.append((start, end))
    return spans
