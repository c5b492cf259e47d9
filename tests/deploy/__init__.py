"""Deploy tier: the files in deploy/ checked by systemd-analyze, caddy and tor (mandatory in CI)."""
