#!/usr/bin/env bash
# Extract strings and update every catalog. See docs/translating.md.
#   scripts/i18n.sh            extract + update all locales
#   scripts/i18n.sh init LANG  start a new locale (both catalogs)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-pybabel}"
L=i18n/locales
"$PYBABEL" extract -F i18n/babel-worker.cfg --no-default-keywords -k _ -k gettext -k N_ -k ngettext:1,2 -c Translators: \
  --no-location --sort-output --project grievance-intake --copyright-holder "grievance-intake contributors" \
  -o i18n/messages.pot . >/dev/null
"$PYBABEL" extract -F i18n/babel-desk.cfg --no-default-keywords -k d_ -k D_ -k _ -k dn_:1,2 \
  --no-location --sort-output --project grievance-intake --copyright-holder "grievance-intake contributors" \
  -o i18n/desk.pot . >/dev/null
if [ "${1:-}" = init ]; then
  "$PYBABEL" init -i i18n/messages.pot -d "$L" -D messages -l "$2"
  "$PYBABEL" init -i i18n/desk.pot -d "$L" -D desk -l "$2"
  exit 0
fi
for domain in messages desk; do
  for po in "$L"/*/LC_MESSAGES/$domain.po; do
    [ -e "$po" ] || continue
    lang=$(basename "$(dirname "$(dirname "$po")")")
    "$PYBABEL" update -i i18n/$domain.pot -d "$L" -D $domain -l "$lang" --no-fuzzy-matching --ignore-obsolete >/dev/null
  done
done
echo "catalogs updated; translate the empty msgstr entries, then run the tests (tests/test_i18n.py)"
