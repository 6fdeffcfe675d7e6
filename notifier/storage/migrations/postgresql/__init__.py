"""PostgreSQL migrations: modules named ``v<NNNN>_<what>.py``, each with ``SQL``.

They are Python modules rather than ``.sql`` files so that they ship in any
wheel without package-data settings.  A migration is never edited once
released: change the schema with a new, higher-numbered module.
"""
