"""The pusher's proof on an HTTPS push: which node hands an envelope to a partner's inbox.

An envelope names its sender only inside the encryption (docs/envelope.md#security), and the
inbox holds no key that opens it. So the inbox cannot see that an envelope signed by node A arrived
with node B's bearer token; it used to take it and sign a receipt, and the opener refused it later
as ``wrong_sender``: node A held a receipt for a summary the partner never got (issue 12).

With every push the node also sends an Ed25519 signature, by the same key that signs inside the
envelope, over a domain prefix and the exact envelope bytes. The inbox checks it with the key
registered for the token before it stores anything or signs a receipt. This is transport, not
format: the envelope and its test vectors stay as they are (docs/envelope.md#inbox).
"""

from __future__ import annotations

import nacl.exceptions
from nacl.signing import SigningKey, VerifyKey

from crypto.envelope import _b64url, _unb64url

__all__ = ["HEADER", "PUSH_CONTEXT", "sign_push", "verify_push"]

HEADER = "Intake-Push-Signature"
# Its own prefix: no envelope signature, receipt or other signature by the node's key is a push proof.
PUSH_CONTEXT = b"grievance-intake/push/v1 signature\x00"
_SIG = 64


def sign_push(envelope: bytes, *, key: SigningKey) -> str:
    """The value of the :data:`HEADER` header for pushing ``envelope``: base64url, 86 characters."""
    return _b64url(key.sign(PUSH_CONTEXT + bytes(envelope)).signature)


def verify_push(envelope: bytes, proof: str, *, key: VerifyKey) -> bool:
    """True when ``proof`` is ``key``'s push signature over exactly ``envelope``."""
    signature = _unb64url(proof.strip(), _SIG) if isinstance(proof, str) else None
    if signature is None:
        return False
    try:
        key.verify(PUSH_CONTEXT + bytes(envelope), signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True
