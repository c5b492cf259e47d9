"""The partner's side of the relay: an organisation receiving case summaries from nodes.

- ``relay.partner.home``: the partner's home folder and keys (``intake partner init``);
- ``relay.partner.inbox``: the inbox that takes envelopes in and cannot read them (inbox.db);
- ``relay.partner.store``: the opener and partner.db (opened summaries, refused envelopes);
- ``relay.partner.report``: the aggregate report across nodes, small cells suppressed;
- ``relay.partner.app``: the inbox server (``intake partner serve``).
"""
