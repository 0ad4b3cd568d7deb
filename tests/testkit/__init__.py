"""Shared test support (importable because pyproject sets pythonpath = tests)."""
