"""Generic CRUD over one kind of object, shared by buckets, collections and records.

A ``Resource`` is built per request.  It resolves the parents named in the
URL (creating the user's default bucket on first use), checks permissions,
applies preconditions, writes through the request's storage session and
records each change for the events.
"""

from __future__ import annotations

import builtins
import json
from typing import Any, NoReturn

from pyramid.httpexceptions import HTTPException
from pyramid.request import Request
from pyramid.response import Response

from notifier.delivery import changes as transaction
from notifier.delivery.changes import Change
from notifier.http.errors import ERRORS, http_error, invalid_parameter
from notifier.http.permissions import Authorizer
from notifier.http.views import default_bucket, groups, responses
from notifier.http.views.querystring import (
    ListQuery,
    encode_token,
    pagination_filters,
    parse_list_query,
    pick_fields,
)
from notifier.http.views.requests import (
    Body,
    check_read_preconditions,
    check_write_preconditions,
    not_modified,
    read_body,
)
from notifier.http.views.specs import GROUP, ResourceSpec, checked_id, object_uri, parent_ids
from notifier.state import state_of
from notifier.storage import Filter, ObjectExists, Op, Selection


class Resource:
    """The objects of one kind below one parent, as one request sees them."""

    def __init__(self, request: Request, spec: ResourceSpec, check_parents: bool = True) -> None:
        """``check_parents=False``: the view checks them when it needs to (``get``)."""
        self.request = request
        self.spec = spec
        self.state = transaction.current(request)
        self.session = self.state.session
        self.authz: Authorizer = request.authorizer
        self.parent_uri = self._resolve_parents()
        if check_parents:
            self._check_parents()

    # ---- parents and permissions -------------------------------------------------

    def _resolve_parents(self) -> str:
        """The parent URI, from the ids in the URL (checked, not read)."""
        ids = parent_ids(self.spec, self.request.matchdict)
        ids = default_bucket.substitute(self.request, ids)
        self._parent_ids = ids
        uris = [""]
        for kind, kind_id in zip(self.spec.lineage()[:-1], ids, strict=True):
            uris.append(object_uri(kind, uris[-1], checked_id(kind_id, name=f"{kind.name}_id")))
        self._parent_uris = uris
        return uris[-1]

    def _check_parents(self) -> None:
        """Check each ancestor named in the URL exists (404/403 when not).

        Deleting an object purges everything below it, so the ancestors of a
        live object are live: when the nearest one exists, one read is enough.
        """
        ids, uris = self._parent_ids, self._parent_uris
        kinds = self.spec.lineage()[:-1]
        nearest = kinds[-1].name if kinds else None
        if nearest is None or self.session.get(nearest, uris[-2], ids[-1], shared=True) is not None:
            return
        for kind, kind_id, uri in zip(kinds, ids, uris, strict=False):
            if self.session.get(kind.name, uri, kind_id, shared=True) is None:
                if not default_bucket.in_default_bucket(self.request):
                    self._missing(kind.name, kind_id, uri)
                default_bucket.create(self.request, kind, uri, kind_id)

    def _missing(
        self,
        resource_name: str,
        object_id: str,
        parent_uri: str,
        errno: ERRORS = ERRORS.MISSING_RESOURCE,
    ) -> NoReturn:
        """404 for who may know; 401/403 for who may not learn it does not exist.

        As in Kinto, a missing parent is errno 111 and the missing object
        itself 110 (``INVALID_RESOURCE_ID``).
        """
        if parent_uri and self.authz.can_read(parent_uri):
            raise http_error(
                404,
                errno,
                f"There is no {resource_name} {object_id!r} at {parent_uri or '/'}",
                details={"id": object_id, "resource_name": resource_name},
            )
        self.deny("read", f"{parent_uri}/{resource_name}s/{object_id}")

    def deny(self, permission: str, uri: str) -> NoReturn:
        if self.request.authenticated_userid is None:
            raise http_error(
                401,
                ERRORS.MISSING_AUTH_TOKEN,
                "Authentication required: send Basic credentials (Authorization: Basic ...)",
                headers={"WWW-Authenticate": 'Basic realm="notifier"'},
            )
        raise http_error(
            403,
            ERRORS.FORBIDDEN,
            f"This user lacks the {permission!r} permission on {uri or '/'}",
        )

    # ---- helpers -----------------------------------------------------------------

    def uri(self, object_id: str) -> str:
        return object_uri(self.spec, self.parent_uri, object_id)

    def _record_change(self, action: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        self.state.changes.append(
            Change.make(
                action, self.spec.name, self.parent_uri, old, new, self.request.authenticated_userid
            )
        )

    def _reads_wanted(self) -> bool:
        return state_of(self.request.registry).reads_wanted

    def _record_reads(self, objects: list[dict[str, Any]]) -> None:
        """Reads become events only when a listener opted in with ``actions = read``."""
        if self._reads_wanted():
            for obj in objects:
                if not obj.get("deleted"):
                    self._record_change("read", None, obj)

    def _creator_permissions(self, requested: dict[str, set[str]] | None) -> dict[str, set[str]]:
        permissions = {name: set(who) for name, who in (requested or {}).items()}
        userid = self.request.authenticated_userid
        if userid is not None:
            permissions.setdefault("write", set()).add(userid)
        return permissions

    def _save(self, obj: dict[str, Any], old: dict[str, Any] | None, body: Body) -> dict[str, Any]:
        uri = self.uri(obj["id"])
        if self.spec is GROUP:
            obj = groups.checked(obj)
        if old is None:
            saved = self.session.create(self.spec.name, self.parent_uri, obj)
            permissions = self._creator_permissions(body.permissions)
            self.session.set_permissions(uri, permissions, new_object=True)
            self.authz.remember(uri, permissions)  # the response shows them: no read back
        else:
            saved = self.session.update(self.spec.name, self.parent_uri, obj)
            if body.permissions is not None:
                keep_writer = not (self.parent_uri and self.authz.can_write(self.parent_uri))
                permissions = body.permissions
                if keep_writer:
                    permissions = self._creator_permissions(permissions)
                self.session.set_permissions(uri, permissions)
            self.authz.forget(uri)
        if self.spec is GROUP:
            groups.store_members(self.session, uri, saved)
        self._record_change("create" if old is None else "update", old, saved)
        return saved

    def _object_or_missing(self, object_id: str, permission: str) -> dict[str, Any]:
        obj = self.session.get(self.spec.name, self.parent_uri, object_id)
        return self._allowed(obj, object_id, permission)

    def _allowed(
        self, obj: dict[str, Any] | None, object_id: str, permission: str
    ) -> dict[str, Any]:
        """``obj`` if the request may ``permission`` it; 404 when None, or 401/403."""
        allowed = self.authz.can_read if permission == "read" else self.authz.can_write
        if obj is None:
            self._missing(self.spec.name, object_id, self.parent_uri, ERRORS.INVALID_RESOURCE_ID)
        if not allowed(self.uri(object_id)):
            self.deny(permission, self.uri(object_id))
        return obj

    # ---- plural endpoints ------------------------------------------------------

    def _readable_filter(self) -> list[Filter]:
        """Restrict a list to what the user may read, or deny."""
        if self.parent_uri and self.authz.can_read(self.parent_uri):
            return []
        ids = self.session.accessible_ids(
            self.parent_uri, self.spec.plural, self.request.principals, ("read", "write")
        )
        if not ids and self.parent_uri:
            self.deny("read", self.parent_uri)
        if not ids and self.request.authenticated_userid is None:
            self.deny("read", self.parent_uri)
        return [Filter("id", Op.IN, sorted(ids))]

    def list(self) -> Response:
        settings = self.request.registry.settings
        query = parse_list_query(self.request.GET, settings["notifier.paginate_by"])
        filters = query.filters + self._readable_filter()
        stamp = self.session.timestamp(self.spec.name, self.parent_uri)
        check_read_preconditions(self.request, stamp)
        if not_modified(self.request, stamp):
            return responses.not_modified(self.request, stamp)
        texts, next_page = self._page(query, filters)
        total = None
        if self.request.method == "HEAD":
            total = self.session.count(self.spec.name, self.parent_uri, filters)
        return responses.listing(self.request, texts, stamp, next_page, total)

    def _page(
        self, query: ListQuery, filters: builtins.list[Filter]
    ) -> tuple[builtins.list[str], str | None]:
        """One page, each object as JSON text, and the Next-Page URL when more follow.

        Storage's JSON is served as it is, unless ``_fields`` or a read
        listener needs the objects themselves.
        """
        as_objects = bool(query.fields) or self._reads_wanted()
        fetch = self.session.list if as_objects else self.session.list_json
        pagination = (
            pagination_filters(query.sorting, query.token["last_object"]) if query.token else []
        )
        selection = Selection(
            filters, query.sorting, pagination, query.limit + 1, query.include_deleted
        )
        rows: builtins.list[Any] = fetch(self.spec.name, self.parent_uri, selection)
        next_page = None
        if len(rows) > query.limit:
            rows = rows[: query.limit]
            last = rows[-1] if as_objects else json.loads(rows[-1])
            token = encode_token({sort.field: _field(last, sort.field) for sort in query.sorting})
            next_page = responses.next_page_url(self.request, token)
        if not as_objects:
            return rows, next_page
        self._record_reads(rows)
        if query.fields:
            rows = [pick_fields(obj, query.fields) for obj in rows]
        return [json.dumps(obj, separators=(",", ":")) for obj in rows], next_page

    def create(self) -> Response:
        if not self.authz.can_create(self.parent_uri, self.spec.name):
            self.deny(f"{self.spec.name}:create", self.parent_uri)
        body = read_body(self.request, self.spec.name)
        chosen = "id" in body.data
        object_id = checked_id(body.data["id"], "body", "data.id") if chosen else self.spec.new_id()
        obj = {**body.data, "id": object_id}
        # Only an id the client chose can name an object that exists already.
        existing = self.session.get(self.spec.name, self.parent_uri, object_id) if chosen else None
        # Before the preconditions: a 412 would show the object in details.existing.
        if existing is not None and not self.authz.can_read(self.uri(object_id)):
            self.deny("read", self.uri(object_id))
        check_write_preconditions(
            self.request, existing["last_modified"] if existing else None, existing
        )
        if existing is not None:
            return self._object_response(existing, status=200)
        try:
            saved = self._save(obj, None, body)
        except ObjectExists as error:
            return self._object_response(error.existing, status=200)
        return self._object_response(saved, status=201)

    def delete_list(self) -> Response:
        query = parse_list_query(self.request.GET, 10000)
        filters = list(query.filters)
        if not (self.parent_uri and self.authz.can_write(self.parent_uri)):
            ids = self.session.accessible_ids(
                self.parent_uri, self.spec.plural, self.request.principals, ("write",)
            )
            if not ids:
                self.deny("write", self.parent_uri)
            filters.append(Filter("id", Op.IN, sorted(ids)))
        check_write_preconditions(
            self.request, self.session.timestamp(self.spec.name, self.parent_uri), None
        )
        objects = self.session.list(
            self.spec.name, self.parent_uri, Selection(filters, query.sorting)
        )
        tombstones = [self._delete(obj) for obj in objects]
        return responses.deleted_list(self.request, tombstones)

    # ---- object endpoints -------------------------------------------------------

    @property
    def object_id(self) -> str:
        raw_id = checked_id(self.request.matchdict["id"])
        return default_bucket.object_id(self.request, self.spec, raw_id)

    def _object_response(self, obj: dict[str, Any], status: int = 200) -> Response:
        uri = self.uri(obj["id"])
        permissions = None
        if self.authz.can_write(uri):
            permissions = self.authz.permissions_of(uri)
        return responses.single(self.request, obj, permissions, status)

    def get(self) -> Response:
        """Built with ``check_parents=False``: the object is read first, and its
        parents only when it is missing (a live object's parents are live), so
        a GET that finds its object makes one read fewer."""
        try:
            object_id = self.object_id
        except HTTPException:
            self._check_parents()  # a missing parent is answered before a malformed id
            raise
        obj = self.session.get(self.spec.name, self.parent_uri, object_id)
        if obj is None:
            self._check_parents()
        obj = self._allowed(obj, object_id, "read")
        check_read_preconditions(self.request, obj["last_modified"])
        if not_modified(self.request, obj["last_modified"]):
            return responses.not_modified(self.request, obj["last_modified"])
        self._record_reads([obj])
        return self._object_response(obj)

    def put(self) -> Response:
        object_id = self.object_id
        body = read_body(self.request, self.spec.name)
        if "id" in body.data and body.data["id"] != object_id:
            raise invalid_parameter(
                "body", "data.id", f"must match the id in the URL ({object_id!r})"
            )
        old = self.session.get(self.spec.name, self.parent_uri, object_id)
        if old is None and not self.authz.can_create(self.parent_uri, self.spec.name):
            self.deny(f"{self.spec.name}:create", self.parent_uri)
        if old is not None and not self.authz.can_write(self.uri(object_id)):
            self.deny("write", self.uri(object_id))
        check_write_preconditions(self.request, old["last_modified"] if old else None, old)
        saved = self._save({**body.data, "id": object_id}, old, body)
        return self._object_response(saved, status=201 if old is None else 200)

    def patch(self) -> Response:
        from notifier.http.views.patching import apply_patch

        object_id = self.object_id
        old = self._object_or_missing(object_id, "write")
        check_write_preconditions(self.request, old["last_modified"], old)
        permissions = self.session.get_permissions(self.uri(object_id))
        data, new_permissions = apply_patch(self.request, self.spec.name, old, permissions)
        unchanged_data = data == {k: v for k, v in old.items() if k not in ("id", "last_modified")}
        if unchanged_data and new_permissions in (None, permissions):
            return self._object_response(old)  # nothing to write, nothing to tell listeners
        body = Body(data=data, permissions=new_permissions, has_data=True)
        saved = self._save({**data, "id": object_id}, old, body)
        return self._object_response(saved)

    def delete(self) -> Response:
        old = self._object_or_missing(self.object_id, "write")
        check_write_preconditions(self.request, old["last_modified"], old)
        return responses.single(self.request, self._delete(old), None)

    def _delete(self, old: dict[str, Any]) -> dict[str, Any]:
        """Tombstone ``old``, purge what lies below it, and record every change."""
        uri = self.uri(old["id"])
        tombstone = self.session.delete(self.spec.name, self.parent_uri, old["id"])
        self._record_change("delete", old, tombstone)
        for resource_name, parent_uri, child in self.session.purge_children(uri):
            child_tombstone = {
                "id": child["id"],
                "last_modified": tombstone["last_modified"],
                "deleted": True,
            }
            self.state.changes.append(
                Change.make(
                    "delete",
                    resource_name,
                    parent_uri,
                    child,
                    child_tombstone,
                    self.request.authenticated_userid,
                )
            )
        self.session.delete_permissions(uri)
        if self.spec is GROUP:
            groups.forget_group(self.session, uri)
        self.authz.forget(uri)
        return tombstone


def _field(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
