"""A first guess at severity when a report is opened, so the worst cases come first (Scenario 3).

Urgent, as the desk issue defines it: injury or death, imminent danger, closure without pay,
retaliation. A caseworker always decides; this only orders the queue. Deliberately simple word
lists per language, tested with examples; a miss costs a place in the queue, never a report.
"""

from __future__ import annotations

import re

from intake.domain import Category, Report

_URGENT = [
    # English
    r"\b(died|dead|death|killed|kill(ed)? himself|suicide|fatal)\b",
    r"\b(injur(y|ed|ies)|amputat\w*|crushed|burn(ed|t|s)|fainted|unconscious|poison(ed|ing)?)\b",
    r"\b(lost|cut off|severed|broke|broken)\b.{0,30}\b(fingers?|hands?|arms?|legs?)\b",
    r"\b(fire|explosion|collapse[ds]?|gas leak|toxic)\b",
    r"\b(locked (in|us in)|cannot leave|kept our passports|beaten|beat (him|her|us|me))\b",
    r"\b(factory (closed|shut)|owner (ran|fled|disappeared)|closed without pay(ing)?)\b",
    # Simplified and Traditional Chinese
    r"(死亡|死了|身亡|自杀|跳楼|工伤|受伤|伤了|断指|手指|截肢|烧伤|烫伤|晕倒|昏迷|中毒|火灾|着火|爆炸|倒塌|坍塌|漏气|有毒)",
    r"(打人|殴打|被打|锁在|不让离开|扣押.{0,4}(护照|身份证))",
    r"(老板跑路|跑路了|倒闭|关厂|停工不发|欠薪跑)",
    # Spanish
    r"\b(muri[oó]|muerto|accidente|herido|lesi[oó]n|quemad[oa]|explosi[oó]n|incendio|desmay[oó])\b",
    # Vietnamese
    r"(chết|tai nạn|bị thương|cháy|nổ|ngất|đánh đập)",
]
_PATTERN = re.compile("|".join(_URGENT), re.IGNORECASE)


def initial_severity(report: Report) -> str:
    if Category.RETALIATION in report.categories:
        return "urgent"
    text = f"{report.description}\n{report.factory}"
    return "urgent" if _PATTERN.search(text) else "normal"
