"""Errors raised by :mod:`crypto`. Messages carry no secret material."""


class CryptoError(Exception):
    """Root of every error raised by :mod:`crypto`."""


class CannotOpen(CryptoError):
    """A sealed blob could not be opened: wrong key, tampered, truncated or not ours.

    Deliberately one opaque error: telling these apart would help an attacker probe.
    """


class WrongPassphrase(CryptoError):
    """The passphrase did not unlock the keyring for that user."""


class KeyringError(CryptoError):
    """The keyring file is missing, unreadable, of an unknown version or inconsistent."""


class KeyringDestroyed(KeyringError):
    """The keyring's wrapped masters were destroyed (``intake panic``): only public keys are left."""


class KitDamaged(CryptoError):
    """A recovery kit that cannot be read: not a kit, truncated, or a paper line mistyped (named)."""
