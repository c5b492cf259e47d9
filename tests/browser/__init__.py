"""Browser tier: the worker pages in Debian's Chromium, driven by Playwright (mandatory in CI)."""
