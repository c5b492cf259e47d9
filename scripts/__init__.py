"""Maintenance scripts (run from the repository root); a package so they can share code."""
