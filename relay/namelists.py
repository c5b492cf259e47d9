"""The word lists the name finder reads (issue 12 item 4), loaded once, on first use.

- ``namedata.txt.gz``: first and last names from names-dataset (``scripts/make_namedata.py``);
- ``namedata_th.txt.gz``: Thai names from the Thai Names Corpus (``scripts/make_wordlists.py``);
- :mod:`relay.namehand`: names compiled by hand (Tamil, Nepali, Khmer);
- ``commonwords.txt.gz``: frequent words of Hindi, Bengali, Tamil, Urdu and Thai, names removed
  (``scripts/make_wordlists.py``): what stands where a name could but is an ordinary word.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from relay import namehand

_DATA = Path(__file__).with_name("namedata.txt.gz")
_DATA_TH = Path(__file__).with_name("namedata_th.txt.gz")  # Thai names (scripts/make_wordlists.py)
_COMMON = Path(__file__).with_name("commonwords.txt.gz")  # frequent words (scripts/make_wordlists.py)
# Arabic letters as Urdu writes them (the same table as scripts/make_namedata.py).
ARABIC_AS_URDU = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ہ", "ه": "ہ", "ۃ": "ہ"})


@lru_cache(maxsize=1)
def lexicon() -> dict[str, dict[str, bool]]:
    """Per section (``latin``, ``cyrillic``, ``devanagari``, ...), folded name -> whether it is
    also a common word (then a name only when capitalised inside a sentence)."""
    sections = {
        section: {name: "w" in flags for name, flags in entries.items()}
        for path in (_DATA, _DATA_TH)
        for section, entries in _read(path).items()
    }
    for section, names in (("tamil", namehand.TAMIL), ("devanagari", namehand.NEPALI), ("khmer", namehand.KHMER)):
        sections.setdefault(section, {}).update(dict.fromkeys(names, False))
    return sections


@lru_cache(maxsize=1)
def common_words() -> dict[str, dict[str, float]]:
    """Per section (``devanagari``, ``bengali``, ``tamil``, ``arabic``, ``thai``), the language's
    frequent words that are not names, with their Zipf frequency (for Thai: their rank)."""
    return {
        section: {word: float(zipf or 0) for word, zipf in entries.items()}
        for section, entries in _read(_COMMON).items()
    }


def _read(path: Path) -> dict[str, dict[str, str]]:
    """A word list file: ``[section]`` lines, then a word, a tab and a value per line."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            if line.startswith("["):
                current = sections.setdefault(line.strip()[1:-1], {})
                continue
            word, _, value = line.rstrip("\n").partition("\t")
            current[word] = value
    return sections
