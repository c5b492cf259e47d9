"""Every SMS a worker can receive, and the keywords they can send, as gettext msgids.

Each template must fit in two SMS segments in every shipped locale (tests enumerate them with
``i18n.segments``). Keywords are translated as ``|``-separated alternatives; English always works.
"""

from __future__ import annotations

from i18n import N_

# Translators: SMS keywords. Give the word(s) a worker would type, separated by |. Keep them short.
KEYWORDS = {
    "help": N_("HELP|?"),
    "status": N_("STATUS"),
    "lang": N_("LANG|LANGUAGE"),
    "restart": N_("RESTART"),
    "stop": N_("STOP"),
    "done": N_("DONE|FINISHED|END"),
    "yes": N_("YES|Y"),
    "no": N_("NO|N"),
}

ASK_FACTORY = N_(
    "Workers' grievance line. You do not need to give your name. Which factory or workplace is this about? Reply with its name."
)
ASK_FACTORY_AFTER = N_(
    "Thank you, we have your message. Which factory or workplace is this about? Reply with its name."
)
ASK_DESCRIPTION = N_("What happened? Write as much as you need in one or more messages, then send DONE.")
GOT_PART = N_("Received. Send more, or DONE when you have finished.")
DESCRIPTION_FIRST = N_("Please tell us what happened first, then send DONE.")
# Translators: sent after the factory's name when the worker already wrote what happened.
ASK_MORE = N_("Thank you. Is there more to tell about what happened? Send it, or send DONE if that is all.")
# Translators: a worker wrote more of their story where a menu answer was asked; it is kept, and the
# question follows in the next SMS.
ADDED = N_("Thank you, we added this to what you told us.")
ASK_CATEGORIES = N_(
    "What is it about? Reply with one or more numbers, e.g. 1 3\n"
    "1 Wages 2 Hours 3 Safety 4 Forced labour 5 Agent fees 6 Child/student 7 Union 8 Discrimination "
    "9 Harassment 10 Contract 11 Dorm 12 Retaliation 13 Other"
)
CATEGORIES_INVALID = N_("Please reply with numbers from the list, for example: 1 3")
ASK_CONSENT = N_(
    "May we share it? Reply 0: keep it inside the labour group. 1: share a summary without your name with partners. 2: share it with your name."
)
CONSENT_INVALID = N_("Please reply 0, 1 or 2.")
ASK_CONTACT = N_("May we text you back at this number? Reply YES or NO. Say NO if other people use this phone.")
CONTACT_INVALID = N_("Please reply YES or NO.")
RECEIPT = N_(
    "Thank you, your report is saved. Receipt code: {receipt}. Keep it safe. To read replies, text STATUS {receipt} or use our web page."
)
HELP = N_(
    "Tell us what happened at work and we will ask a few questions. Send STATUS and your code for news, LANG to change language, RESTART to start again, STOP to end."
)
RESTARTED = N_("Started again. Nothing from before was kept.")
EMPTY = N_("Your message was empty. Please write your answer.")
STATUS_INVALID = N_("A receipt code has 16 digits. Send STATUS and the code, for example STATUS 1234 5678 9012 3456.")
# Translators: the code after STATUS fails its check digit (a typo); translate STATUS as in HELP.
STATUS_CHECK = N_("Please check the code: a digit may be wrong, or two swapped. Send STATUS and the code again.")
STATUS_LINE = N_("Your report: {status}")
STATUS_REPLY = N_("Latest reply: {text}")
SMS_STATUS = {
    "received": N_("received, no reply yet."),
    "in_review": N_("a caseworker is reading it."),
    "in_progress": N_("the labour group is working on it."),
    "closed": N_("closed."),
}
CHOOSE_LANGUAGE = N_("Reply with a number to choose your language:")
# Translators: the last line of one page of the SMS language menu, after "0 ": the worker replies 0 to see
# the other languages. One or two words.
MORE_LANGUAGES = N_("More languages")
# Translators: an MMS or WhatsApp message carried more photos or documents than are kept; {n} is a number.
TOO_MANY_FILES = N_("Files per message: at most {n}. The others were not kept; please send them in another message.")

ALL_TEMPLATES = [
    ASK_FACTORY, ASK_FACTORY_AFTER, ASK_DESCRIPTION, GOT_PART, DESCRIPTION_FIRST, ASK_MORE, ADDED, ASK_CATEGORIES,
    CATEGORIES_INVALID, ASK_CONSENT, CONSENT_INVALID, ASK_CONTACT, CONTACT_INVALID, RECEIPT, HELP, RESTARTED, EMPTY,
    STATUS_INVALID, STATUS_CHECK, STATUS_LINE, TOO_MANY_FILES, *SMS_STATUS.values(),
]  # fmt: skip
