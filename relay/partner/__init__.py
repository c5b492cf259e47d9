"""The partner's side of the relay: an organisation receiving case summaries from nodes.

- ``relay.partner.home``: the partner's home folder and keys (``intake partner init``);
- ``relay.partner.inbox``: the inbox that takes envelopes in and cannot read them (inbox.db);
- ``relay.partner.store``: the opener and partner.db (opened summaries, refused envelopes);
- ``relay.partner.report``: the aggregate report across nodes, small cells suppressed;
- ``relay.partner.remedy``: the remedy record per factory, parent company, brand and public buyer
  (``relay.partner.supply``: the partner's supply-chain register; ``relay.partner.public``: the
  public complaints table and its approvals);
- ``relay.partner.app``: the inbox server (``intake partner serve``).
"""
