"""Redaction with no name field, per language (issue 12 item 4): recall and over-redaction, and time.

    .venv/bin/python bench/bench_redact.py [--stories 40] [--seed 12]

Runs the synthetic corpus of tests/relay/redact_corpus.py (21 languages, names in every position)
through ``relay.redact.redact`` with no names given, and prints per language:

- recall on identifiers (all of them; names in the shipped list; names not in it; rare names);
- over-redaction: the share of other words removed (characters, for zh, th, my, km);
- time per 2,000-character narrative, against a baseline measured in the same run: the same
  redaction with the name finder switched off (what main did before this change).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay import namefind
from relay.redact import redact
from tests.relay.redact_corpus import LANGS, corpus, measure


def _without_names_finder(norm: str) -> list[tuple[int, int]]:
    return []


def figures(stories_per_lang: int, seed: int, *, off: bool = False) -> dict[str, object]:
    stories = corpus(seed, stories_per_lang)
    original = namefind.find
    if off:
        namefind.find = _without_names_finder  # type: ignore[assignment]
    try:
        return measure(stories, lambda t: [(r.start, r.end) for r in redact(t, locale="en").removals], by_list=True)  # type: ignore[return-value]
    finally:
        namefind.find = original  # type: ignore[assignment]


def timing(seed: int, rounds: int) -> None:
    print("\ntime per 2,000-character narrative (median, ms): with the name finder / without it (before)")
    print(f"{'lang':8s} {'after':>7s} {'before':>7s}")
    original = namefind.find
    for lang in LANGS:
        text = corpus(seed, 1, target=2000, langs=[lang])[0].text[:2000]
        times: dict[str, list[float]] = {"after": [], "before": []}
        for _ in range(rounds):
            for label in ("after", "before"):
                namefind.find = original if label == "after" else _without_names_finder  # type: ignore[assignment]
                t0 = time.perf_counter()
                redact(text, locale=lang)
                times[label].append((time.perf_counter() - t0) * 1000)
        namefind.find = original  # type: ignore[assignment]
        print(f"{lang:8s} {statistics.median(times['after']):7.2f} {statistics.median(times['before']):7.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Redaction recall and over-redaction per language.")
    ap.add_argument("--stories", type=int, default=40, help="stories per language")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    t0 = time.perf_counter()
    namefind.lexicon()
    print(f"names list loaded in {time.perf_counter() - t0:.2f} s")
    before = figures(args.stories, args.seed, off=True)
    after = figures(args.stories, args.seed)
    print(
        f"\n{args.stories} stories per language, seed {args.seed}, no name field. recall = identifiers fully"
        " removed; over = other words removed (characters for zh, th, my, km)"
    )
    print(
        f"{'lang':8s} | {'recall':>6s} {'over':>6s} | {'recall':>6s} {'listed':>6s} {'unlist':>6s} "
        f"{'rare':>6s} {'over':>6s}"
    )
    print(f"{'':8s} | {'before':^13s} | {'after':^34s}")
    for lang in LANGS:
        b, a = before[lang], after[lang]
        rare = measure_rare(args, lang)
        print(
            f"{lang:8s} | {b.recall:6.3f} {b.over_redaction:6.3f} | {a.recall:6.3f} {a.pool('listed'):6.3f} "  # type: ignore[attr-defined]
            f"{a.pool('unlisted'):6.3f} {rare:6.3f} {a.over_redaction:6.3f}"  # type: ignore[attr-defined]
        )
    timing(args.seed, args.rounds)
    return 0


_RARE: dict[str, float] = {}


def measure_rare(args: argparse.Namespace, lang: str) -> float:
    if not _RARE:
        figs = measure(
            corpus(args.seed, args.stories), lambda t: [(r.start, r.end) for r in redact(t, locale="en").removals]
        )
        _RARE.update({k: v.pool("rare") for k, v in figs.items()})
    return _RARE[lang]


if __name__ == "__main__":
    raise SystemExit(main())
