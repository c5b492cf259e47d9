"""Regenerate relay/namedata_th.txt.gz and relay/commonwords.txt.gz (issue 12 item 4).

    python -m venv /tmp/nd && /tmp/nd/bin/pip install wordfreq==3.1.1 names-dataset==3.3.1
    /tmp/nd/bin/pip download --no-deps pythainlp==5.4.0 -d /tmp/pt && unzip -q /tmp/pt/*.whl -d /tmp/pt
    /tmp/nd/bin/python scripts/make_wordlists.py --pythainlp /tmp/pt/pythainlp/corpus

Neither package is a dependency of the project: the relay reads only the files this writes.

- ``namedata_th.txt.gz``: Thai given and family names, from the Thai Male and Female Names Corpus
  (Korkeat Wannapat, CC BY-SA 4.0) as PyThaiNLP ships it; a name that is also a frequent Thai word
  (the Thai National Corpus frequencies, CC0, as PyThaiNLP ships them) is flagged ``w``: a name
  only where a person stands. names-dataset has no Thai names worth keeping (make_namedata.py).
- ``commonwords.txt.gz``: the frequent words of Hindi, Bengali, Tamil and Urdu (``wordfreq``,
  whose data is CC BY-SA 4.0) and of Thai (TNC), minus what names-dataset holds as names first.
  The name finder reads a word in a name's position (before ने, को, கள், نے; opening a sentence)
  as a name only when it is not one of these; for Thai, a stretch made of these words is no name.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import pickle
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.namelists import ARABIC_AS_URDU  # noqa: E402

NAMES_OUT = ROOT / "relay" / "namedata_th.txt.gz"
WORDS_OUT = ROOT / "relay" / "commonwords.txt.gz"
# The least frequent word kept per language: the floor relay/namefind_indic.py reads it with.
MIN_ZIPF = {"hi": 3.5, "bn": 3.3, "ta": 3.6, "ur": 3.7}
THAI_WORDS = 30000  # the most frequent TNC words kept
THAI_COMMON_RANK = 20000  # a Thai name this frequent as a word is flagged
GENDER = {"BENGALI": 0.85, "ARABIC": 0.95}  # how clear a first name's gender must be (else 0.75)
SECTION = {"hi": "devanagari", "bn": "bengali", "ta": "tamil", "ur": "arabic"}


def tnc(corpus: Path) -> list[str]:
    """TNC words, the most frequent first."""
    rows = []
    for line in (corpus / "tnc_freq.txt").read_text(encoding="utf-8").splitlines():
        word, _, freq = line.partition("\t")
        if word.strip() and freq.isdigit():  # the relay matches NFKC text: ำ is written ํา there
            rows.append((-int(freq), unicodedata.normalize("NFKC", word.strip())))
    return list(dict.fromkeys(w for _, w in sorted(rows)))


def dataset_names() -> set[str]:
    """The first names of names-dataset in the scripts of ``SECTION`` that are names first: those
    with a clear gender (its entries "আমি", "মানুষ" have none; its last names are not told apart)."""
    spec = importlib.util.find_spec("names_dataset")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("names-dataset is not installed: pip install names-dataset==3.3.1")
    folder = Path(next(iter(spec.submodule_search_locations))) / "v3"
    out: set[str] = set()
    for name in ("first_names.pkl.gz",):
        with gzip.open(folder / name) as f:
            table = pickle.load(f)  # noqa: S301  (the package's own data, read at build time)
        for entry, info in table.items():
            word = unicodedata.normalize("NFKC", entry)
            # Its Bengali and Arabic-script entries hold words with a gender (তারা, میری): stricter.
            if max(info["gender"].values(), default=0.0) < GENDER.get(
                unicodedata.name(word[:1] or "?", "").split(" ")[0], 0.75
            ):
                continue
            if word and unicodedata.name(word[0], "").split(" ")[0] in ("DEVANAGARI", "BENGALI", "TAMIL", "ARABIC"):
                out.add(word.translate(ARABIC_AS_URDU))
                out.add(word)
    return out


def write(path: Path, header: str, sections: dict[str, dict[str, str]]) -> None:
    lines = [header]
    for section in sorted(sections):
        lines.append(f"[{section}]\n")
        lines.extend(f"{w}\t{v}\n" for w, v in sorted(sections[section].items()))
    data = "".join(lines).encode("utf-8")
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    counts = ", ".join(f"{s} {len(v)}" for s, v in sorted(sections.items()))
    print(f"{path}: {len(data):,} bytes, {path.stat().st_size:,} compressed; {counts}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pythainlp", type=Path, required=True, help="pythainlp/corpus folder of the unpacked wheel")
    args = ap.parse_args()
    import wordfreq

    corpus: Path = args.pythainlp
    thai_ranked = tnc(corpus)
    thai_rank = {w: i for i, w in enumerate(thai_ranked)}
    names: dict[str, str] = {}
    for name in ("person_names_female_th.txt", "person_names_male_th.txt", "family_names_th.txt"):
        for word in unicodedata.normalize("NFKC", (corpus / name).read_text(encoding="utf-8")).split():
            if len(word) < 2:
                continue
            common = thai_rank.get(word, THAI_COMMON_RANK) < THAI_COMMON_RANK or len(word) <= 2
            if names.get(word) != "":  # a name that is not a word somewhere stays unflagged
                names[word] = "w" if common else ""
    write(
        NAMES_OUT,
        "# Thai names for relay/namefind.py. Generated by scripts/make_wordlists.py.\n"
        "# Source: Thai Male and Female Names Corpus, (c) Korkeat Wannapat, as shipped by PyThaiNLP 5.4.0\n"
        "# (https://github.com/korkeatw/thai-names-corpus), licensed CC BY-SA 4.0\n"
        "# (https://creativecommons.org/licenses/by-sa/4.0/); this file is shared under the same licence.\n"
        "# Changes: given and family names merged; a name that is a frequent word (TNC) flagged w.\n",
        {"thai": names},
    )

    dataset = dataset_names()
    words: dict[str, dict[str, str]] = {"thai": {w: str(i) for i, w in enumerate(thai_ranked[:THAI_WORDS])}}
    for w, flags in names.items():
        if not flags:  # a name that is no frequent word does not make up a stretch of words
            words["thai"].pop(w, None)
    for lang, section in SECTION.items():
        out = words.setdefault(section, {})
        for word, freq in wordfreq.get_frequency_dict(lang).items():
            zipf = math.log10(freq) + 9
            word = unicodedata.normalize("NFKC", word)
            key = word.translate(ARABIC_AS_URDU) if section == "arabic" else word
            if zipf < MIN_ZIPF[lang] or not all(unicodedata.category(c)[0] in "LM" for c in key):
                continue
            if key in dataset:  # राहुल, محمد: a name first, though a frequent word
                continue
            out[key] = max(out.get(key, ""), f"{zipf:.1f}")
    write(
        WORDS_OUT,
        "# Frequent words for relay/namefind.py. Generated by scripts/make_wordlists.py.\n"
        "# Sources: wordfreq 3.1.1 (Robyn Speer; its data is CC BY-SA 4.0,\n"
        "# https://creativecommons.org/licenses/by-sa/4.0/) for Hindi, Bengali, Tamil, Urdu, with the\n"
        "# Zipf frequency; Thai National Corpus frequencies (CC0) as shipped by PyThaiNLP 5.4.0.\n"
        "# This file is shared under CC BY-SA 4.0. Changes: names (names-dataset) removed, NFKC.\n",
        words,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
