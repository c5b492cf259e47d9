"""Which languages the hotline can speak: a recorded prompt, or a Twilio text-to-speech voice.

A locale with neither is left out of the menu (a worker must never hear a language they did not
choose). Recorded prompts live in ``$INTAKE_HOME/voice-prompts/<locale>/<key>.mp3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import i18n

# Twilio <Say> language and voice per locale: only voices named in Twilio's own list of <Say>
# voices, https://www.twilio.com/docs/voice/twiml/say/text-speech#available-voices-and-languages, whose
# source is TwilioDevEd/api-snippets voice/tts/available-voices-list.md (read at commit b04350e2).
# Bengali is not in that copy; Google.bn-IN-Standard-C is in the later copies of the same table kept by
# projects that validate voices against it (e.g. GooeyAI/gooey-server routers/twilio_api.py). Neither
# lists Burmese, Khmer, Nepali, Urdu or Swahili: those need recorded prompts (docs/voice-prompts.md).
# Standard voices, not Neural/Wavenet ones: they cost less per call and every one here is listed.
SAY_VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"),
    "zh_Hans": ("cmn-CN", "Polly.Zhiyu"),
    "zh_Hant": ("cmn-TW", "Google.cmn-TW-Standard-A"),
    "vi": ("vi-VN", "Google.vi-VN-Standard-A"),
    "th": ("th-TH", "Google.th-TH-Standard-A"),
    "ms": ("ms-MY", "Google.ms-MY-Standard-A"),
    "id": ("id-ID", "Google.id-ID-Standard-A"),
    "fil": ("fil-PH", "Google.fil-PH-Standard-A"),
    "bn": ("bn-IN", "Google.bn-IN-Standard-C"),
    "hi": ("hi-IN", "Polly.Aditi"),
    "ta": ("ta-IN", "Google.ta-IN-Standard-C"),
    "es": ("es-MX", "Polly.Mia"),
    "cs": ("cs-CZ", "Google.cs-CZ-Standard-A"),
    "pl": ("pl-PL", "Polly.Ewa"),
    "uk": ("uk-UA", "Google.uk-UA-Standard-A"),
    "fr": ("fr-FR", "Polly.Lea"),
}
# Shipped locales Twilio cannot speak: the menu offers them only where a group recorded the prompts.
RECORDED_ONLY = ("my", "km", "ne", "ur", "sw")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # consent, menu_option_2, digit_7: never a path


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
