"""Tests of the benchmark helpers in bench/ (imported from the repository root)."""
