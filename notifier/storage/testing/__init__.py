"""The storage conformance suite: what every ``Storage`` backend must do, as pytest tests.

notifier runs it on SQLite and PostgreSQL; a backend of your own runs it the
same way, from a test module of its own that provides a ``storage`` fixture
(an empty backend, closed afterwards)::

    import pytest

    from notifier.storage.testing import StorageConformance


    class TestMyStorage(StorageConformance):
        @pytest.fixture
        def storage(self, tmp_path):
            backend = MyStorage(tmp_path / "db")
            yield backend
            backend.close()

Then ``pytest`` collects every test of the suite for ``TestMyStorage``.  The
parts (``ObjectConformance``, ``ListingConformance``, ``OutboxConformance``)
can also be used alone.  See docs/storage.md.

This package needs pytest, which notifier does not depend on: install the
``testing`` extra (``pip install 'notifier[testing]'``).  Nothing in notifier
imports it, so applications never need pytest.

Imported only by: ``notifier.storage.testing`` (and test modules).
"""

from __future__ import annotations

from notifier.storage.testing.listing import ListingConformance
from notifier.storage.testing.objects import ObjectConformance
from notifier.storage.testing.outbox import OutboxConformance

__all__ = ["ListingConformance", "ObjectConformance", "OutboxConformance", "StorageConformance"]


class StorageConformance(ObjectConformance, ListingConformance, OutboxConformance):
    """Every conformance test; a subclass provides the ``storage`` fixture."""
