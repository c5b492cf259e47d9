"""The ``intake`` command, one module per command group (docs/cli.md).

``app`` builds the command and holds :func:`main`, the console script's entry point
(``intake = "intake.cli:main"``); ``common`` is what every group shares: the consoles, the shared
options, passphrases, unlocking and the one place errors are printed.
"""

from intake.cli.app import main

__all__ = ["main"]
