"""Encrypted stores (SQLCipher): the inbox the intake writes, the cases the desk keeps."""

from intake.store.cases import CasesStore
from intake.store.db import open_store
from intake.store.inbox import Inbox

__all__ = ["CasesStore", "Inbox", "open_store"]
