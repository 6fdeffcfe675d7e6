"""Conformance of ``Session.granted`` (the /v1/permissions endpoint and group
memberships read it), on every backend."""

from __future__ import annotations

from tests.storage_helpers import read

from notifier.storage import Storage, transaction


def test_granted_lists_each_uri_with_the_principals_permissions(storage: Storage) -> None:
    with transaction(storage) as session:
        session.set_permissions("/buckets/b", {"write": {"alice"}, "read": {"bob"}})
        session.set_permissions("/buckets/b/collections/c", {"read": {"alice", "bob"}})
        session.set_permissions("/buckets/b/groups/g/members", {"member": {"alice"}})
        session.set_permissions("/buckets/x", {"write": {"carol"}})
    assert read(storage, lambda s: s.granted(["alice"])) == {
        "/buckets/b": {"write"},
        "/buckets/b/collections/c": {"read"},
        "/buckets/b/groups/g/members": {"member"},
    }
    assert read(storage, lambda s: s.granted(["alice", "bob"], ["read"])) == {
        "/buckets/b": {"read"},
        "/buckets/b/collections/c": {"read"},
    }
    assert read(storage, lambda s: s.granted(["alice"], ["member"])) == {
        "/buckets/b/groups/g/members": {"member"},
    }
    assert read(storage, lambda s: s.granted(["nobody"])) == {}
