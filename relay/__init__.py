"""Relay: sealed, signed, anonymised case summaries from a node to its partners.

- ``relay.tokens``: the placeholders that replace removed identifiers, in the summary's language;
- ``relay.redact``: finding identifiers in free text (phones, IDs, names, ...);
- ``relay.names``, ``relay.namefind*``, ``relay.namewords``, ``relay.namelists``, ``relay.namehand``,
  ``relay.idcheck``, ``relay.text``: what the name and ID detectors of ``relay.redact`` build on;
- ``relay.summary``: the ``CaseSummary`` a partner receives and how it is built from a case;
- ``relay.partners``: the partners a node relays to (the registry in cases.db);
- ``relay.gate``: the review gate (what a coordinator approves) and ``Relay``, the three together;
- ``relay.outbox``: the durable queue of sealed envelopes in cases.db;
- ``relay.transport``: HTTPS push with receipts, and folder export for a USB stick;
- ``relay.partner``: the partner's side (home and keys, inbox, opener and partner.db, report, inbox server).
"""
