"""Regenerate relay/namedata.txt.gz, the names redaction finds with no name field (issue 12 item 4).

    python -m venv /tmp/nd && /tmp/nd/bin/pip install names-dataset==3.3.1 wordfreq==3.1.1
    /tmp/nd/bin/python scripts/make_namedata.py            # writes relay/namedata.txt.gz

Neither package is a dependency of the project: the relay reads only the file this writes.

Names come from the ``names-dataset`` package (Philippe Remy; first and last names by country with
their rank). Its wheel is 55 MB and loading both tables takes ~10 s and ~1.9 GB of memory, so the
relay never loads it: this script keeps, per script, the names of the countries our 21 languages
are spoken in (and their workers' countries of origin), the most frequent first.

Words that are names and also common words are told apart with ``wordfreq`` (used here only, its
lists are not shipped): a common word in a Latin or Cyrillic script is kept with a flag (a name
only when capitalised inside a sentence); in scripts without capitals it is dropped. Words of our
own translation catalogs (i18n/locales) are dropped or flagged alike.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import pickle
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.text import _folded  # noqa: E402  (the relay folds the text the same way)

OUT = ROOT / "relay" / "namedata.txt.gz"

# Countries whose names are kept in Latin and Cyrillic script, and how many of each (by rank).
LATIN = {
    # English, and the countries workers in our regions come from, whose names appear romanised
    "US": 1500, "GB": 1500, "CA": 800, "IE": 300, "NG": 800, "GH": 500, "ZA": 500,
    "MX": 3000, "GT": 1000, "HN": 1000, "SV": 1000, "CO": 1000, "PE": 800, "ES": 1500,  # es
    "FR": 2500, "BE": 800, "CM": 1500, "BI": 1500, "HT": 800, "MA": 800, "DZ": 800, "TN": 500,  # fr
    "CZ": 3000, "PL": 3000, "ID": 3000, "MY": 3000, "SG": 1500, "BN": 800, "PH": 3000,  # cs pl id ms fil
    "ET": 800,  # East Africa (the dataset has no Kenya or Tanzania)
    "CN": 1500, "TW": 1500, "HK": 1500, "MO": 800, "KH": 1000,  # romanised Chinese, Khmer
    "IN": 2500, "BD": 2000, "AF": 300, "SA": 300, "AE": 300,  # romanised South Asian, Arabic
}  # fmt: skip
CYRILLIC = {"RU": 6000, "MD": 2000, "KZ": 1000, "BG": 500}
# The dataset has no Ukraine: Ukrainian names are in its Russian table. One spelt with a letter only
# Ukrainian has (Андрій, Наталія, Ігор) is kept down to this rank there.
UKRAINIAN_LETTERS = frozenset("іїєґІЇЄҐ")
UKRAINIAN_RANK = 20000
# Scripts without capitals: every entry of the script with a rank at most this, in any country. Thai,
# Khmer and Burmese are left out: the dataset's few entries there are mostly nicknames and words
# ("person", "child", "sorry"; Burmese in the legacy Zawgyi encoding), which would remove words.
NATIVE_RANK = 20000
NATIVE = {
    "devanagari": ("DEVANAGARI", ("hi",)),
    "bengali": ("BENGALI", ("bn",)),
    "tamil": ("TAMIL", ("ta",)),
    "arabic": ("ARABIC", ("ur",)),
    "han": ("CJK", ("zh",)),
}
# Latin and Cyrillic words this common (Zipf scale) in one of our languages are flagged ...
COMMON_ZIPF = 3.8
# ... unless a country ranks them among its most frequent names (John, Maria: names first).
NAME_RANK = 400
FUNCTION_ZIPF = 5.6  # flagged whatever their rank: the, la, we, và
# Arabic letters as Urdu writes them, so an Arabic-script name matches either spelling.
ARABIC_AS_URDU = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ہ", "ه": "ہ", "ۃ": "ہ"})
LATIN_LANGS = ("en", "es", "fr", "cs", "pl", "id", "ms", "fil", "vi")
CYRILLIC_LANGS = ("uk", "ru")


def tables(source: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if source is None:
        spec = importlib.util.find_spec("names_dataset")  # located, not imported (it needs numpy)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("names-dataset is not installed: pip install names-dataset==3.3.1")
        source = Path(next(iter(spec.submodule_search_locations))) / "v3"
    out = []
    for name in ("first_names.pkl.gz", "last_names.pkl.gz"):
        with gzip.open(source / name) as f:
            out.append(pickle.load(f))  # noqa: S301  (the package's own data, read at build time)
    return out[0], out[1]


def script_of(name: str) -> str:
    for c in name:
        if c.isalpha():
            return unicodedata.name(c, "?").split()[0]
    return "?"


_CLEAN = re.compile(r"^[^\W\d_][^\d_]*$")


def parts(name: str) -> list[str]:
    """The words of a dataset entry worth keeping: letters only, two or more."""
    name = unicodedata.normalize("NFKC", name).strip()
    if not _CLEAN.match(name):
        return []
    return [p for p in re.split(r"[\s\-]+", name) if sum(c.isalpha() for c in p) >= 2]


def catalog_words() -> set[str]:
    """Every word of the project's own catalogs (msgids and translations), folded."""
    words: set[str] = set()
    for po in (ROOT / "i18n" / "locales").glob("*/LC_MESSAGES/*.po"):
        for line in po.read_text(encoding="utf-8").splitlines():
            if line.startswith(("msgid", "msgstr", '"')):
                for w in re.findall(r"[^\W\d_]+", line):
                    words.add(_folded(w).text)
    return words


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="folder holding names-dataset's v3/*.pkl.gz")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    import wordfreq

    first, last = tables(args.source)
    catalog = catalog_words()

    freqs = {
        lang: wordfreq.get_frequency_dict(lang)
        for lang in {*LATIN_LANGS, *CYRILLIC_LANGS, "hi", "bn", "ta", "ur", "fa", "ar", "zh"}
    }

    def zipf(word: str, langs: tuple[str, ...]) -> float:
        """The word's frequency on the Zipf scale (log10 per billion words), looked up without tokenising."""
        f = max(freqs[lang].get(word.casefold(), 0.0) for lang in langs)
        return math.log10(f) + 9 if f > 0 else 0.0

    sections: dict[str, dict[str, str]] = defaultdict(dict)

    # Latin and Cyrillic: the top names of each country, flagged when also a common word.
    for table in (first, last):
        for countries, script, langs in ((LATIN, "LATIN", LATIN_LANGS), (CYRILLIC, "CYRILLIC", CYRILLIC_LANGS)):
            for name, info in table.items():
                ranks = info["rank"]
                limits = countries
                if script == "CYRILLIC" and UKRAINIAN_LETTERS.intersection(name):
                    limits = {**countries, "RU": UKRAINIAN_RANK}
                best = min((r for c, r in ranks.items() if c in limits and r <= limits[c]), default=None)
                if best is None or script_of(name) != script:
                    continue
                for part in parts(name):
                    if script_of(part) != script:
                        continue
                    folded = _folded(part).text
                    z = zipf(part.lower(), langs)
                    if script == "CYRILLIC":
                        # Names are frequent words of Ukrainian text (Олена, Тарас): a name is flagged
                        # for Russian frequency, or for Ukrainian only when a function word's.
                        z = max(zipf(part.lower(), ("ru",)), z if z >= FUNCTION_ZIPF else 0.0)
                    common = z >= FUNCTION_ZIPF or (z >= COMMON_ZIPF and best > NAME_RANK) or folded in catalog
                    section = "latin" if script == "LATIN" else "cyrillic"
                    if sections[section].get(folded) != "":  # a plain entry wins over a flagged one
                        sections[section][folded] = "w" if common else ""

    # Scripts without capitals: common words dropped.
    for section, (script, native_langs) in NATIVE.items():
        for table, kind in ((first, "first"), (last, "last")):
            if section == "han" and kind == "last":
                continue  # Chinese surnames are a closed set kept in relay/names.py
            for name, info in table.items():
                if script_of(name) != script or not info["rank"] or min(info["rank"].values()) > NATIVE_RANK:
                    continue
                for part in parts(name):
                    folded = _folded(part).text
                    if section == "han" and not 2 <= len(part) <= 3:
                        continue
                    if section == "arabic":
                        folded = folded.translate(ARABIC_AS_URDU)
                    z = (
                        max(zipf(part, native_langs), zipf(part.translate(ARABIC_AS_URDU), native_langs))
                        if native_langs
                        else 0.0
                    )
                    gender = max(info["gender"].values(), default=0.0)
                    # Popular names are frequent words too (राहुल, محمد), but a word people put in the
                    # name field (আমি "I", মানুষ "human") has no clear gender: that tells them apart.
                    if kind == "first":
                        common = z >= 6.0 or (z >= (4.0 if section == "han" else 3.3) and gender < 0.85)
                    else:
                        common = z >= 5.5
                    if folded in catalog or common:
                        continue
                    sections[section][folded] = ""

    header = (
        "# Names redaction finds with no name field (relay/namefind.py). Generated by scripts/make_namedata.py.\n"
        "# Source: names-dataset 3.3.1 (https://pypi.org/project/names-dataset/), (c) Philippe Remy; its\n"
        "# LICENSE file is the Apache License 2.0 (its metadata says MIT). Changes: selected by country and\n"
        "# rank, split into words, folded (case, width, Latin diacritics), common words flagged (w) or dropped.\n"
        "# The dataset was compiled from names in a 2021 leak of Facebook profiles; only names, no person.\n"
        "# Format: [section] lines, then one folded name per line, a tab and flags.\n"
    )
    lines = [header]
    for section in sorted(sections):
        lines.append(f"[{section}]\n")
        lines.extend(f"{n}\t{f}\n" for n, f in sorted(sections[section].items()))
    data = "".join(lines).encode("utf-8")
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    counts = ", ".join(f"{s} {len(v)}" for s, v in sorted(sections.items()))
    print(f"{args.out}: {len(data):,} bytes, {args.out.stat().st_size:,} compressed; {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
