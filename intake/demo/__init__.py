"""``intake demo``: a throwaway node on loopback, seeded with synthetic reports.

``run`` drives the whole demo; ``servers`` starts uvicorn in a thread on a loopback socket; ``data``
holds the sample reports; ``voice`` drives one hotline call; ``relay`` relays two summaries to a
demo partner.
"""
