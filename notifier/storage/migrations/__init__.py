"""Versioned schema migrations, one package per backend that needs them.

SQLite creates its schema when it opens its file; PostgreSQL, shared by
several processes, is changed only by ``notifier migrate``.
"""
