"""Command-line entry points: serving an INI file and the admin commands.

The top of the import graph: may import anything in ``notifier``; nothing
imports it.
"""
