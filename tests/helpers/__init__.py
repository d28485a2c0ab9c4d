"""Helpers shared by tests of several directories (plain functions, no fixtures: those
are in tests/plugins/, registered through ``pytest_plugins`` in tests/conftest.py)."""
