"""A first guess at severity when a report is opened, so the worst cases come first (Scenario 3).

Urgent, as the desk issue defines it: injury or death, imminent danger, closure without pay,
retaliation, and the kinds in `triage_rules.KINDS`. A caseworker always decides; this only orders
the queue. Word stems per shipped language (triage_rules, triage_rules_asia), tested with examples
in every language; a miss costs a place in the queue, never a report.
"""

from __future__ import annotations

from intake import triage_rules, triage_rules_asia
from intake.domain import Category, Report
from intake.triage_regex import compile_family

# Compiled once: every rule of every language runs on every report, whatever its locale, since a
# worker may write in a language other than the one the form or the SMS menu was set to.
_LATIN = compile_family(
    triage_rules.LATIN,
    fold_pattern=triage_rules.fold_latin_pattern,
    word_start=triage_rules.WORD_START,
    window=triage_rules.WINDOW,
)
_ASIA = compile_family(
    triage_rules_asia.ASIA,
    fold_pattern=triage_rules_asia.fold_asia_pattern,
    word_start=triage_rules_asia.WORD_START,
    window=triage_rules_asia.WINDOW,
)


def initial_severity(report: Report) -> str:
    if Category.RETALIATION in report.categories:
        return "urgent"
    return "urgent" if urgent_text(f"{report.description}\n{report.factory}") else "normal"


def urgent_text(text: str) -> bool:
    """Whether free text reads as urgent by these rules (also run by the intake on a report's clear
    text in memory, before sealing, to count it for a content-free alert: intake/alerts.py)."""
    if _LATIN.search(triage_rules.fold_latin(text)):
        return True
    return not text.isascii() and bool(_ASIA.search(triage_rules_asia.fold_asia(text)))
