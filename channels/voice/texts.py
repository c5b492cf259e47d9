"""What the hotline says, as gettext msgids (one per prompt key).

A labour group can replace any of them with its own recording: ``<voice_prompts>/<locale>/<key>.mp3``
(docs/voice-prompts.md). The language menu option is always spoken in its own language.
"""

from __future__ import annotations

from i18n import N_

PROMPTS: dict[str, str] = {
    # Translators: one option of the phone menu, spoken in this language. {digit} is the key to press.
    "menu_option": N_("For English, press {digit}."),
    "menu_more": N_("For more languages, press 9."),
    "welcome": N_("Workers' grievance line. You do not need to give your name."),
    "consent": N_(
        "Who may hear about your report? Press 0 to keep it inside the labour group. Press 1 to let us share a "
        "summary without your name with partner organisations. Press 2 to share it with your name."
    ),
    "contact": N_(
        "May we call or text you back at this number? Press 1 for yes, 2 for no. Say no if others use this phone."
    ),
    "record": N_(
        "After the beep, tell us what happened: where you work, what happened, and when. You can speak for up to "
        "five minutes. Press the hash key when you have finished."
    ),
    "no_input": N_("We did not hear a choice."),
    "receipt": N_("Your report is saved. Your receipt code is:"),
    "receipt_again": N_("Again, your receipt code is:"),
    "receipt_keep": N_("Write it down and keep it safe. With it you can check for replies on our web page or by SMS."),
    "repeat": N_("To hear the code again, press 1."),
    "nothing_recorded": N_("We did not receive a recording. Please call again."),
    "goodbye": N_("Thank you. Goodbye."),
    # The call-back (issue 15): the labour group calls the worker to ask whether remedy happened.
    # Translators: {what} is a short phrase such as "back pay" or "the remedy agreed for your case".
    "callback_confirm": N_(
        "This is the workers' grievance line, calling about your report. Has this happened: {what}? "
        "Press 1 for yes, 2 for partly, 3 for no."
    ),
    "callback_retaliation": N_(
        "This is the workers' grievance line, calling about your report. Since your report, have you been "
        "punished, moved, threatened or dismissed? Press 1 for no, 2 for yes."
    ),
    "callback_thanks": N_("Thank you, your answer was received. Only the labour group hears it. Goodbye."),
    "callback_gone": N_("Thank you for answering. There is no question for you now. Goodbye."),
}
