"""Relay: sealed, signed, anonymised case summaries from a node to its partners.

- ``relay.tokens``: the placeholders that replace removed identifiers, in the summary's language;
- ``relay.redact``: finding identifiers in free text (phones, IDs, names, ...);
- ``relay.summary``: the ``CaseSummary`` a partner receives and how it is built from a case;
- ``relay.outbox`` / ``relay.transport``: the durable queue in cases.db, HTTPS push and folder export;
- ``relay.partner``: the partner's side (inbox server, opening envelopes, partner.db, reports).
"""
