"""Listener modules that the tests name in their INI settings."""
