"""Which languages the hotline can speak: a recorded prompt, or a Twilio text-to-speech voice.

A locale with neither is left out of the menu (a worker must never hear a language they did not
choose). Recorded prompts live in ``$INTAKE_HOME/voice-prompts/<locale>/<key>.mp3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import i18n

# Twilio <Say> language and Amazon Polly voice per locale (Twilio's Text-to-Speech list).
SAY_VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"),
    "zh_Hans": ("cmn-CN", "Polly.Zhiyu"),
    "es": ("es-MX", "Polly.Mia"),
    "fr": ("fr-FR", "Polly.Lea"),
    "pl": ("pl-PL", "Polly.Ewa"),
    "hi": ("hi-IN", "Polly.Aditi"),
    "cs": ("cs-CZ", "Polly.Jitka-Neural"),
}
_KEY = re.compile(r"^[a-z_]{1,32}$")


@dataclass(frozen=True)
class Voice:
    locale: str
    say: tuple[str, str] | None  # (language, voice) for <Say>, if Twilio has one
    recorded: frozenset[str]  # prompt keys the labour group recorded for this locale

    def has(self, key: str) -> bool:
        return key in self.recorded or self.say is not None


def prompts_dir(home: Path) -> Path:
    return home / "voice-prompts"


def voices(home: Path) -> list[Voice]:
    """Every shipped locale that can be spoken, English first (the menu's order)."""
    out = []
    for loc in i18n.available_locales():
        folder = prompts_dir(home) / loc
        recorded = (
            frozenset(p.stem for p in folder.glob("*.mp3") if _KEY.match(p.stem)) if folder.is_dir() else frozenset()
        )
        say = SAY_VOICES.get(loc)
        if say is None and not recorded:
            continue
        out.append(Voice(loc, say, recorded))
    return out


def prompt_file(home: Path, locale: str, key: str) -> Path | None:
    if locale not in i18n.available_locales() or not _KEY.match(key):
        return None
    path = prompts_dir(home) / locale / f"{key}.mp3"
    return path if path.is_file() else None
