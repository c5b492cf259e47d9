"""Names in Devanagari, Bengali, Tamil and Urdu that no list holds (issue 12 item 4).

These scripts have no capital letters, so a name the list (``relay/namedata.txt.gz``) lacks is
found by where it stands: before a case ending or postposition that follows a person (राम ने,
সুমনকে, اسلم نے, सीतालाई), before "and" with another name, or opening a sentence in Tamil, whose
subject takes no ending. Such a word is a name only when it is none of the language's frequent
words (``relay/commonwords.txt.gz``, from wordfreq): "मैनेजर ने" keeps its manager.
"""

from __future__ import annotations

from functools import lru_cache

from relay.namelists import common_words
from relay.text import _words

# Words after a person, per script: postpositions, "and", the case endings written apart.
FOLLOWERS: dict[str, frozenset[str]] = {
    "devanagari": _words("ने को से और तथा एवं ले लाई सँग र संग ज्यू जी"),
    "bengali": _words("আর ও এবং কে সাথে সঙ্গে"),
    "tamil": _words("மற்றும் அவர்கள் அவர்களை அவர்களுக்கு அவர்களின் ஆகியோர் என்பவர்"),
    "arabic": _words("نے کو سے اور صاحب صاحبہ"),
}
# Case endings written onto a name, per script, longest first (Tamil: accusative, dative,
# instrumental, genitive, "and").
ENDINGS: dict[str, tuple[str, ...]] = {
    "devanagari": ("लाई", "सँग", "ले"),
    "bengali": ("কে", "ের", "র"),
    "tamil": ("வுக்கு", "க்கு", "வை", "வால்", "வின்", "னை", "னுக்கு", "னால்", "னின்", "யை", "யும்"),
}
# Endings taken off a word before it is looked up among the frequent ones (Nepali writes को, मा,
# बाट onto the word: "काठमाडौंको").
STRIP: dict[str, tuple[str, ...]] = {
    "devanagari": ("हरूलाई", "हरूले", "हरूको", "लाई", "बाट", "सँग", "देखि", "ले", "को", "मा", "का", "की", "के"),
    "bengali": ("দের", "কে", "ের", "র", "ে"),
    "tamil": ENDINGS["tamil"],
}
# Nepali has no frequency list (wordfreq has none): its pronouns and the words of a complaint.
NEPALI = _words(
    "म मेरो मेरा मेरी हामी हाम्रो हाम्रा हाम्री तिमी तिम्रो तपाईं तपाईंको उ उनी उनको उनीहरू उनीहरूको यो त्यो "
    "यी ती यहाँ त्यहाँ को के कसले कहाँ किन कति सबै हरेक केही धेरै थोरै एक दुई तीन जना पनि नै मात्र अब "
    "आज हिजो भोलि बिहान साँझ राति दिन दिनको हप्ता महिना महिनाको वर्ष घण्टा घण्टाको पटक चैत वैशाख जेठ "
    "असार साउन भदौ असोज कात्तिक मंसिर पुस माघ फागुन आइतबार सोमबार मङ्गलबार बुधबार बिहिबार शुक्रबार "
    "शनिबार काम कामदार मजदुर श्रमिक कारखाना कम्पनी मालिक साहु ठेकेदार सुपरभाइजर म्यानेजर गार्ड "
    "हाकिम प्रहरी तलब पैसा रुपैयाँ ज्याला ओभरटाइम छुट्टी बिदा ढोका शौचालय झोला हात खुट्टा टाउको "
    "मेसिन कोठा डेरा घर गाउँ देश विदेश राहदानी पासपोर्ट कागज उजुरी जवाफ धम्की गाली कुटपिट चोट "
    "सिलाई विभाग लाइन सुरक्षा आपतकालीन खानतलासी महिला पुरुष साथी दाइ दिदी भाइ बहिनी आमा बुबा "
    "श्रीमान श्रीमती छोरा छोरी परिवार काठमाडौं नेपाल भारत मलेसिया कतार साउदी दुबई"
)
# A word at least this frequent (Zipf) is an ordinary word, not a name, in a name's position.
COMMON_ZIPF: dict[str, float] = {"devanagari": 3.5, "bengali": 3.3, "tamil": 3.6, "arabic": 3.7}
# Before a found family name, only a word this frequent is no name; after a role word too, but in
# Bengali, where a verb often follows the role ("সুপারভাইজার মেরেছে"), any frequent word is none.
VERY_COMMON = 4.5
CUE_COMMON: dict[str, float] = {"bengali": 3.3}
# A listed name this frequent as a word is a word the names dataset holds by mistake (Bengali and
# Urdu, and Nepali words in Devanagari; its Tamil entries are names).
LISTED_COMMON: dict[str, float] = {"bengali": 5.05, "arabic": 5.2, "devanagari": 6.5}
# Languages whose subject takes no ending: a sentence's first word is in a name's position.
BARE_SUBJECT: frozenset[str] = frozenset()


@lru_cache(maxsize=8)
def _common(script: str) -> dict[str, float]:
    return common_words().get(script, {})


def common(word: str, script: str, floor: float = 0.0) -> bool:
    """Whether ``word`` (or it without a case ending) is one of the script's frequent words: at
    least ``floor`` (Zipf) when given, else the script's own floor."""
    freq = _common(script)
    floor = floor or COMMON_ZIPF.get(script, 3.0)
    stems = [word] + [word[: -len(e)] for e in STRIP.get(script, ()) if word.endswith(e) and len(word) > len(e)]
    return any(freq.get(w, 0.0) >= floor or (script == "devanagari" and w in NEPALI) for w in stems)


def placed(word: str, script: str, nxt: str, initial: bool) -> bool:
    """Whether ``word`` stands where a person does: before a follower, with a case ending on it,
    or opening a sentence where the subject takes none."""
    if nxt in FOLLOWERS.get(script, ()):
        return True
    if any(word.endswith(e) and len(word) > len(e) + 1 for e in ENDINGS.get(script, ())):
        return True
    return initial and script in BARE_SUBJECT


def listed_word(word: str, script: str) -> bool:
    """Whether a listed name is a frequent word the names dataset holds by mistake (প্রতিদিন)."""
    floor = LISTED_COMMON.get(script)
    return floor is not None and common(word, script, floor)
