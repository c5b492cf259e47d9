"""Catalogs, language negotiation and SMS segment budgets.

Nothing here hard-codes a translation: every check compares a shipped catalog with the English
source (freshly extracted from the code, as ``scripts/i18n.sh`` does) or with a rule that holds in
any language (placeholders kept, numbered menus kept, SMS texts within two segments, ...).
"""

from __future__ import annotations

import re
import string
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

import i18n
from channels.sms import conversation, texts
from i18n.segments import GSM7_BASIC, GSM7_EXTENDED, count_segments
from intake.domain import BOARD_LABELS, CATEGORY_LABELS, CONSENT_LABELS

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = (i18n.WORKER_DOMAIN, i18n.DESK_DOMAIN)
RECEIPT_EXAMPLE = "1234-5678-9012-3456"
MAX_SMS_SEGMENTS = 2

# The extraction options of scripts/i18n.sh (test_extract_options_match_script keeps them in step).
COMMON_OPTIONS = [
    "--no-location",
    "--sort-output",
    "--project",
    "grievance-intake",
    "--copyright-holder",
    "grievance-intake contributors",
]
EXTRACT_OPTIONS = {
    i18n.WORKER_DOMAIN: [
        "-F", "i18n/babel-worker.cfg", "--no-default-keywords",
        "-k", "_", "-k", "gettext", "-k", "N_", "-k", "ngettext:1,2", "-c", "Translators:",
    ],
    i18n.DESK_DOMAIN: [
        "-F", "i18n/babel-desk.cfg", "--no-default-keywords", "-k", "d_", "-k", "D_", "-k", "_", "-k", "dn_:1,2",
    ],
}  # fmt: skip

PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def shipped_catalogs() -> list[tuple[str, str]]:
    """(locale, domain) for every .po file that ships, whatever the locale."""
    pairs = []
    for domain in DOMAINS:
        for locale in i18n.available_locales(domain):
            if (i18n.LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po").is_file():
                pairs.append((locale, domain))
    return pairs


CATALOGS = shipped_catalogs()
CATALOG_IDS = [f"{loc}-{dom}" for loc, dom in CATALOGS]
TRANSLATED_LOCALES = [loc for loc in i18n.available_locales() if loc != i18n.SOURCE_LOCALE]


def load(locale: str, domain: str) -> Catalog:
    with (i18n.LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain, abort_invalid=True)


def msgids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Catalog]:
    """The .pot of each domain, extracted from the source as it is now (never the committed .pot)."""
    out = tmp_path_factory.mktemp("pot")
    result = {}
    for domain in DOMAINS:
        pot = out / f"{domain}.pot"
        cmd = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", *EXTRACT_OPTIONS[domain]]
        cmd += [*COMMON_OPTIONS, "-o", str(pot), "."]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=120)
        with pot.open("rb") as fh:
            result[domain] = read_po(fh, domain=domain, abort_invalid=True)
    return result


# --- the catalogs ---------------------------------------------------------------------------------


def test_catalogs_are_found() -> None:
    assert CATALOGS, "no .po catalog found under i18n/locales"
    assert TRANSLATED_LOCALES, "no locale besides the English source ships a worker catalog"
    for domain in DOMAINS:
        assert i18n.available_locales(domain)[0] == i18n.SOURCE_LOCALE


def test_extract_options_match_script() -> None:
    script = (ROOT / "scripts" / "i18n.sh").read_text("utf-8")
    for domain, options in EXTRACT_OPTIONS.items():
        assert " ".join(options) in script, f"{domain}: scripts/i18n.sh extracts with other options"
        assert f"-o i18n/{domain}.pot" in script
    for option in ("--no-location", "--sort-output", "--project grievance-intake"):
        assert option in script


def test_templates_are_not_empty(templates: dict[str, Catalog]) -> None:
    for domain, pot in templates.items():
        assert len(msgids(pot)) > 10, f"extracting {domain} found almost nothing"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_catalog_header(locale: str, domain: str) -> None:
    catalog = load(locale, domain)
    assert str(catalog.locale) == locale, "the Language header does not match the folder"
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert catalog.mime_headers, "no header"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_no_fuzzy_or_empty_entries(locale: str, domain: str) -> None:
    catalog = load(locale, domain)
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    empty = [m.id for m in catalog if m.id and not all(s.strip() for s in strings(m.string))]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_catalog_covers_source(locale: str, domain: str, templates: dict[str, Catalog]) -> None:
    missing = sorted(msgids(templates[domain]) - msgids(load(locale, domain)))
    assert not missing, f"source strings not in {locale}/{domain}.po (run scripts/i18n.sh, translate): {missing}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_catalog_has_no_stale_entries(locale: str, domain: str, templates: dict[str, Catalog]) -> None:
    stale = sorted(msgids(load(locale, domain)) - msgids(templates[domain]))
    assert not stale, f"entries no longer in the source (run scripts/i18n.sh): {stale}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_placeholders_kept(locale: str, domain: str) -> None:
    problems = []
    for m in load(locale, domain):
        if not m.id:
            continue
        wanted = sorted(PLACEHOLDER.findall(strings(m.id)[0]))
        for translated in strings(m.string):
            if sorted(PLACEHOLDER.findall(translated)) != wanted:
                problems.append((m.id, translated))
                continue
            try:
                list(string.Formatter().parse(translated))
            except ValueError as exc:
                problems.append((m.id, f"{translated!r}: {exc}"))
    assert not problems, f"placeholders differ from the English: {problems}"


@pytest.mark.parametrize(("locale", "domain"), CATALOGS, ids=CATALOG_IDS)
def test_babel_checks_pass(locale: str, domain: str) -> None:
    errors = [(m.id, [str(e) for e in errs]) for m, errs in load(locale, domain).check()]
    assert not errors


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_worker_catalog_is_used(locale: str) -> None:
    t = i18n.translations(locale)
    catalog = load(locale, i18n.WORKER_DOMAIN)
    for msgid in (texts.ASK_DESCRIPTION, CATEGORY_LABELS[next(iter(CATEGORY_LABELS))]):
        assert t.gettext(msgid) == catalog[msgid].string
    assert t.gettext(texts.ASK_DESCRIPTION) != texts.ASK_DESCRIPTION
    assert t.gettext("What happened?") != "What happened?"


def test_chinese_is_translated() -> None:
    worker, desk = i18n.translations("zh_Hans"), i18n.translations("zh_Hans", i18n.DESK_DOMAIN)
    for msgid in (texts.ASK_FACTORY, texts.RECEIPT, *BOARD_LABELS.values(), *CONSENT_LABELS.values()):
        assert worker.gettext(msgid) != msgid
    assert desk.gettext("Passphrase") != "Passphrase"
    assert i18n.translations("en").gettext(texts.ASK_FACTORY) == texts.ASK_FACTORY


# --- SMS texts ------------------------------------------------------------------------------------


def sms_values(locale: str) -> list[dict[str, str]]:
    """Realistic values for the SMS placeholders: every status, the display form of a receipt."""
    t = i18n.translations(locale)
    return [
        {"receipt": RECEIPT_EXAMPLE, "status": t.gettext(status), "text": "x", "n": "5"}
        for status in texts.SMS_STATUS.values()
    ]


@pytest.mark.parametrize("locale", i18n.available_locales())
def test_sms_templates_fit_two_segments(locale: str) -> None:
    t = i18n.translations(locale)
    too_long = []
    for msgid in texts.ALL_TEMPLATES:
        template = t.gettext(msgid)
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        for values in sms_values(locale):
            assert fields <= values.keys(), f"give test values for {fields - values.keys()} in {msgid!r}"
            info = count_segments(template.format(**values))
            if info.segments > MAX_SMS_SEGMENTS:
                too_long.append((msgid, info))
    assert not too_long, f"SMS over {MAX_SMS_SEGMENTS} segments in {locale}: {too_long}"


@pytest.mark.parametrize("locale", i18n.available_locales())
def test_sms_language_menu_fits_two_segments(locale: str) -> None:
    """Every page of the menu, under this locale's CHOOSE_LANGUAGE and MORE_LANGUAGES texts."""
    pages = conversation.language_pages(locale)
    for page in range(len(pages)):
        text = conversation.language_menu(locale, page)
        assert count_segments(text).segments <= MAX_SMS_SEGMENTS, f"page {page + 1}: {text!r}"
    listed = [line for p in pages for line in p if not line.startswith(f"{conversation.MORE} ")]
    assert len(listed) == len(i18n.available_locales())


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", unicodedata.normalize("NFKC", text))]


@pytest.mark.parametrize("locale", i18n.available_locales())
def test_sms_numbered_answers_kept(locale: str) -> None:
    t = i18n.translations(locale)
    menu = t.gettext(texts.ASK_CATEGORIES)
    assert menu.count("\n") == texts.ASK_CATEGORIES.count("\n")
    assert numbers(menu.splitlines()[-1]) == list(range(1, len(conversation.MENU) + 1))
    assert numbers(texts.ASK_CATEGORIES.splitlines()[-1]) == list(range(1, len(conversation.MENU) + 1))
    for msgid in (texts.ASK_CONSENT, texts.CONSENT_INVALID):
        assert numbers(t.gettext(msgid)) == numbers(msgid), msgid


@pytest.mark.parametrize("locale", i18n.available_locales())
def test_sms_keywords_translated(locale: str) -> None:
    t = i18n.translations(locale)
    for name, msgid in texts.KEYWORDS.items():
        words = t.gettext(msgid).split("|")
        assert all(w.strip() for w in words), f"{locale}: empty alternative in keyword {name}: {words}"


def test_sms_keywords_do_not_collide() -> None:
    """A word may mean one keyword only, in every shipped language at once (the matcher is global)."""
    words = {name: conversation.keyword_words(name) for name in texts.KEYWORDS}
    names = sorted(words)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if {a, b} == {"done", "yes"} or {a, b} == {"done", "no"}:
                continue  # asked at different stages, never both at once
            assert not words[a] & words[b], f"{a} and {b} share {words[a] & words[b]}"


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_sms_keywords_work_in_locale(locale: str) -> None:
    t = i18n.translations(locale)
    for name in ("stop", "help", "lang", "restart"):
        for word in t.gettext(texts.KEYWORDS[name]).split("|"):
            assert conversation._keyword(f" {word} ")[0] == name, (name, word)
    word = t.gettext(texts.KEYWORDS["status"]).split("|")[0]
    assert conversation._keyword(f"{word} {RECEIPT_EXAMPLE}") == ("status", RECEIPT_EXAMPLE)
    for word in t.gettext(texts.KEYWORDS["yes"]).split("|"):
        assert conversation._yes_no(word) is True, word
    for word in t.gettext(texts.KEYWORDS["no"]).split("|"):
        assert conversation._yes_no(word) is False, word


# --- the status table of docs/translating.md ------------------------------------------------------

REVIEW = re.compile(r"^# Native-speaker review: *(.+?) *$", re.M)


def status_table() -> dict[str, dict[str, str]]:
    """The rows of docs/translating.md's "## Status" table, by locale, keyed by column heading."""
    doc = (ROOT / "docs" / "translating.md").read_text("utf-8").split("## Status", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in doc.splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    header, rows = cells[0], [r for r in cells[2:]]
    table = {}
    for row in rows:
        assert len(row) == len(header), f"a row of the status table has {len(row)} cells: {row}"
        table[row[0].strip("`")] = dict(zip(header, row, strict=True))
    return table


def test_translation_table_lists_exactly_the_shipped_locales() -> None:
    table = status_table()
    shipped = set(i18n.available_locales()) | set(i18n.available_locales(i18n.DESK_DOMAIN))
    assert set(table) == shipped, (
        f"docs/translating.md: add {sorted(shipped - set(table))}, remove {sorted(set(table) - shipped)}"
    )


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_translation_table_agrees_with_the_catalog(locale: str) -> None:
    row = status_table().get(locale)
    assert row is not None, f"docs/translating.md has no row for {locale}"
    po = i18n.LOCALES_DIR / locale / "LC_MESSAGES"
    text = (po / "messages.po").read_text("utf-8")
    review = REVIEW.search(text.split("msgid", 1)[0])
    assert review, f"{locale}/messages.po: no '# Native-speaker review: ...' line in the header"
    assert row["native-speaker review"] == review.group(1), "the review status differs from the .po header"
    catalog = load(locale, i18n.WORKER_DOMAIN)
    translator = catalog.last_translator or ""
    assert row["translator"] in translator, f"Last-Translator is {translator!r}"
    assert row["`messages.po` (workers)"] == "yes"
    assert row["`desk.po` (caseworkers)"] == ("yes" if (po / "desk.po").is_file() else "no")
    assert int(row["plural forms"]) == catalog.num_plurals


PLURAL_SAMPLES = [*range(0, 1001), 1_000_000, 1_000_001, 10**9 + 2]


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_plural_forms_are_babels(locale: str) -> None:
    """Each catalog picks the same plural form as Babel's rule for its locale, for every count.

    Compared by what the expressions choose, not by their text: Babel releases write the same
    CLDR rule differently (2.19 reordered the clauses), and the shipped catalogs must hold for
    every version the lock file allows, not only the one that wrote them.
    """
    from gettext import c2py

    from babel.messages.plurals import get_plural

    rule = get_plural(locale)
    expected = c2py(rule.plural_expr)
    for domain in DOMAINS:
        if (i18n.LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po").is_file():
            catalog = load(locale, domain)
            assert catalog.num_plurals == rule.num_plurals, domain
            chosen = c2py(catalog.plural_expr)
            wrong = [n for n in PLURAL_SAMPLES if chosen(n) != expected(n)]
            assert not wrong, f"{domain}: {catalog.plural_expr!r} differs from {rule.plural_expr!r} at n={wrong[:5]}"


# --- dates, numbers, direction --------------------------------------------------------------------


@pytest.mark.parametrize("locale", i18n.available_locales())
def test_dates_and_numbers_are_written_in_the_locale(locale: str) -> None:
    from datetime import UTC, date, datetime

    from babel.dates import format_date
    from babel.numbers import format_decimal

    day = date(2026, 11, 22)
    expected = format_date(day, format="long", locale=i18n.babel_locale(locale))
    assert i18n.format_date(day, locale) == expected
    assert i18n.format_date(datetime(2026, 11, 22, 23, 59, tzinfo=UTC), locale) == expected
    assert i18n.format_date(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp(), locale) == expected
    assert i18n.format_number(1234567, locale) == format_decimal(1234567, locale=i18n.babel_locale(locale))
    assert i18n.language_name(locale).strip()


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (1234567, "en", "1,234,567"),
        (1234567, "es", "1.234.567"),
        (1234.5, "cs", "1\xa0234,5"),
        (1234567, "hi", "12,34,567"),
    ],
)
def test_numbers_follow_cldr(value: float, locale: str, expected: str) -> None:
    assert i18n.format_number(value, locale) == expected


def test_only_urdu_is_right_to_left() -> None:
    assert i18n.text_direction("ur") == "rtl"
    for locale in i18n.available_locales():
        assert i18n.text_direction(locale) == ("rtl" if locale == "ur" else "ltr"), locale


# --- language negotiation -------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["zh-CN", "zh-SG", "zh-Hans-CN", "zh", "zh_CN.UTF-8", "ZH-cn"])
def test_negotiate_simplified_chinese(tag: str) -> None:
    assert i18n.negotiate(tag) == "zh_Hans"
    assert i18n.negotiate(None, explicit=tag) == "zh_Hans"


def unshipped_language() -> str:
    return next(c for c in ("de", "is", "eu", "cy", "fr", "sw") if c not in i18n.available_locales())


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("zh-TW", "zh_Hant"), ("zh-HK", "zh_Hant"), ("zh-Hant-TW", "zh_Hant"), ("tl", "fil"), ("vi-VN", "vi"),
     ("ur-PK", "ur"), ("pt-BR", None), ("es-MX", "es"), ("fr-CD", "fr"), ("sw-KE", "sw"), ("ne-NP", "ne")],
)  # fmt: skip
def test_negotiate_regional_tags(tag: str, expected: str | None) -> None:
    if expected is not None and expected not in i18n.available_locales():
        pytest.skip(f"{expected} does not ship yet")
    assert i18n.negotiate(tag) == (expected or i18n.SOURCE_LOCALE)


def test_negotiate_falls_back_to_english() -> None:
    missing = unshipped_language()
    assert i18n.negotiate("en-US") == "en"
    assert i18n.negotiate(missing) == "en"
    assert i18n.negotiate(f"{missing}-CA") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("") == "en"
    assert i18n.negotiate(None, explicit=missing) == "en"


def test_negotiate_uses_q_values() -> None:
    missing = unshipped_language()
    assert i18n.negotiate(f"{missing};q=1.0, zh-CN;q=0.8, en;q=0.5") == "zh_Hans"
    assert i18n.negotiate("en;q=0.4, zh;q=0.9") == "zh_Hans"
    assert i18n.negotiate("zh;q=0, en-GB") == "en"
    assert i18n.negotiate("zh-CN", explicit="en") == "en"


# --- SMS segment counting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a", "GSM-7", 1, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("@£$¥\n", "GSM-7", 5, 1),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 158 + "{", "GSM-7", 160, 1),
        ("a" * 159 + "[", "GSM-7", 161, 2),
        ("^{}\\[~]|€", "GSM-7", 18, 1),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        ("a" * 159 + "中", "UCS-2", 160, 3),
        ("ç", "UCS-2", 1, 1),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        ("中" * 69 + "😀", "UCS-2", 71, 2),
        ("€" * 10 + "中", "UCS-2", 11, 1),
    ],
)
def test_count_segments(text: str, encoding: str, units: int, segments: int) -> None:
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


ALPHABET = st.one_of(
    st.sampled_from(sorted(GSM7_BASIC)),
    st.sampled_from(sorted(GSM7_EXTENDED)),
    st.sampled_from("中文工资加班，。“”"),
    st.sampled_from("😀👍🏭"),
    st.characters(exclude_categories=("Cs",)),
)


@given(st.text(alphabet=ALPHABET, max_size=400), ALPHABET)
def test_appending_never_reduces_segments(text: str, extra: str) -> None:
    before, after = count_segments(text), count_segments(text + extra)
    assert after.segments >= before.segments
    if after.encoding == before.encoding:
        assert after.units > before.units
    # Across the GSM-7 -> UCS-2 switch the units can drop (an escaped € is 2 septets but 1 UTF-16
    # unit), yet the segments cannot: 67 units per segment is always worse than 153 / 2 septets.


def test_switch_to_ucs2_can_reduce_units() -> None:
    before, after = count_segments("€€"), count_segments("€€中")
    assert (before.units, after.units) == (4, 3)
    assert after.segments >= before.segments


@given(st.text(alphabet=ALPHABET, max_size=400))
def test_segments_follow_the_units(text: str) -> None:
    info = count_segments(text)
    if info.encoding == "UCS-2":
        assert info.units == len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    else:
        assert info.units == len(text) + sum(ch in GSM7_EXTENDED for ch in text)
        single, multi = 160, 153
    if not text:
        assert info.segments == 0
    elif info.units <= single:
        assert info.segments == 1
    else:
        assert (info.segments - 1) * multi < info.units <= info.segments * multi
