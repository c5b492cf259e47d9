"""The desk: the caseworkers' local web app (127.0.0.1 by default), unlocked with a passphrase.

Kept apart from the worker surface (SecureDrop's source/journalist split). Locking, or 15 minutes
without a request, forgets every key and closes the cases store.
"""

from intake.desk.app import create_desk_app

__all__ = ["create_desk_app"]
