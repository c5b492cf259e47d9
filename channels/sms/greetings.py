"""Bare greetings: the messages that open an SMS conversation without telling anything yet.

Every other message a worker sends (that is not a keyword, a language choice or a menu answer) is
part of their story and is kept, however short: "工资三个月没发" is a whole complaint. A bare
"hello", "你好" or "สวัสดีครับ" is not, and keeping it would put "hello" at the top of the case a
caseworker reads; so such a message only opens the conversation.

The words are input the engine recognises, like the cue words of :mod:`channels.sms.detect`, not
text anyone is shown: they live here, per language, and any of them counts in any conversation. A
message is a greeting when it is nothing but these words (and punctuation, emoji, spaces), in any
order and number: "Hello, good morning!", "你好，在吗？", "hi po".
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Greetings and the polite words that go with them ("po", "ครับ", "ạ", "sir"). Lower case; several
# words may make one greeting ("good morning"). A word here must never be a story on its own.
GREETINGS: dict[str, str] = {
    "en": "hello|hallo|hullo|helo|hi|hiya|hey|hi there|hello there|greetings|good morning|good afternoon|"
    "good evening|good day|morning|sir|madam|everyone|dear",
    "zh_Hans": "你好|您好|你们好|大家好|在吗|在么|在不在|哈喽|哈啰|嗨|喂|早|早上好|上午好|中午好|下午好|晚上好|早安|晚安",
    "zh_Hant": "你好|您好|你們好|大家好|在嗎|在麼|在不在|哈囉|哈嘍|嗨|喂|早|早上好|早安|午安|晚安|晚上好",
    "th": "สวัสดี|หวัดดี|ดีจ้า|ครับ|ค่ะ|คะ|จ้า|จ้ะ",
    "my": "မင်္ဂလာပါ|မင်္ဂလာ|ဟယ်လို|ခင်ဗျာ|ခင်ဗျ|ရှင်",
    "km": "សួស្តី|សួស្ដី|ជំរាបសួរ|ជម្រាបសួរ|បាទ|ចាស",
    "hi": "नमस्ते|नमस्कार|प्रणाम|हैलो|हेलो|राम राम|जी|namaste|namaskar",
    "ne": "नमस्ते|नमस्कार|हेलो|हजुर|जी|namaste",
    "bn": "নমস্কার|নমস্তে|হ্যালো|হেলো|আসসালামু আলাইকুম|আসসালামুআলাইকুম|সালাম|আদাব",
    "ta": "வணக்கம்|ஹலோ|vanakkam",
    "ur": "السلام علیکم|السلام عليكم|اسلام علیکم|سلام|ہیلو|آداب|جی|assalam o alaikum|assalamu alaikum|salam|aoa",
    "uk": "привіт|вітаю|добрий день|доброго дня|добрий ранок|доброго ранку|добрий вечір|доброго вечора|"
    "здрастуйте|привет|здравствуйте|алло",
    "vi": "xin chào|chào|chào anh|chào chị|chào bạn|chào em|alo|a lô|ạ|xin chao|chao|chao ban",
    "cs": "ahoj|dobrý den|dobry den|dobré ráno|dobre rano|dobrý večer|dobry vecer|čau|cau|nazdar|zdravím|zdravim",
    "pl": "cześć|czesc|dzień dobry|dzien dobry|dobry wieczór|dobry wieczor|witam|hej|siema",
    "es": "hola|buenos días|buenos dias|buen día|buen dia|buenas tardes|buenas noches|buenas|qué tal|que tal|saludos",
    "fr": "bonjour|bonsoir|salut|coucou|allô|allo",
    "ms": "helo|hai|selamat pagi|selamat tengah hari|selamat petang|selamat malam|assalamualaikum|salam|apa khabar",
    "id": "halo|hai|selamat pagi|selamat siang|selamat sore|selamat malam|assalamualaikum|salam|apa kabar|permisi",
    "fil": "kumusta|kamusta|musta|magandang umaga|magandang tanghali|magandang hapon|magandang gabi|po|hello po",
    "sw": "habari|jambo|hujambo|hamjambo|mambo|shikamoo|salamu|habari yako|habari zenu|habari za asubuhi",
}


def _fold(text: str) -> str:
    """Case-folded NFKC with everything but letters, marks and digits turned into spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = (ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in folded)
    return " ".join("".join(kept).split())


MAX_GREETING = 120  # characters: a longer message is never only greetings (and matching stays cheap)


@cache
def _words() -> tuple[str, ...]:
    """Every greeting without its spaces, longest first."""
    words = {_fold(w).replace(" ", "") for spelled in GREETINGS.values() for w in spelled.split("|")}
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def is_greeting(text: str) -> bool:
    """True if ``text`` is nothing but greetings (and punctuation, emoji, spaces).

    Spaces are ignored, so greetings may follow each other with or without one ("你好在吗",
    "hello po"); the message is split into greetings by dynamic programming (no regex that could
    backtrack for long).
    """
    folded = _fold(text).replace(" ", "")
    if not folded or len(folded) > MAX_GREETING:
        return False
    reached = [True] + [False] * len(folded)  # reached[i]: folded[:i] is greetings only
    for i in range(len(folded)):
        if reached[i]:
            for word in _words():
                if folded.startswith(word, i):
                    reached[i + len(word)] = True
    return reached[-1]
