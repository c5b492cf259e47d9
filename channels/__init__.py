"""Channels turn outside input (web forms, JSON, SMS, calls) into domain objects for intake."""
