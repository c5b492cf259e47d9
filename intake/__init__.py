"""Core of the grievance intake node: settings, errors, domain, stores, services, CLI.

The core imports no web framework and no provider SDK: channels turn outside input into
:class:`intake.domain.Report` and hand it to :func:`intake.services.accept_report`.
"""

__version__ = "0.1.0"
