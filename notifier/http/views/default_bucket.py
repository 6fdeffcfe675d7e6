"""The ``default`` bucket: each user's own, created with its collections on first use.

Its real id is derived from the userid with the HMAC secret, so it is stable
and private: ``/buckets/default`` names a different bucket for each user.
"""

from __future__ import annotations

from pyramid.request import Request

from notifier.delivery import changes as transaction
from notifier.delivery.changes import Change
from notifier.http.errors import ERRORS, http_error
from notifier.http.views.specs import BUCKET, ResourceSpec, object_uri
from notifier.permissions import default_bucket_id

DEFAULT = "default"


def _users_bucket_id(request: Request) -> str:
    userid = request.authenticated_userid
    if userid is None:
        raise http_error(
            401,
            ERRORS.MISSING_AUTH_TOKEN,
            "The default bucket is the authenticated user's own: send Basic credentials",
            headers={"WWW-Authenticate": 'Basic realm="notifier"'},
        )
    return default_bucket_id(request.registry.settings["notifier.userid_hmac_secret"], userid)


def substitute(request: Request, ids: list[str]) -> list[str]:
    """Replace a leading ``default`` bucket id by the user's own bucket id."""
    if not ids or ids[0] != DEFAULT:
        return ids
    return [_users_bucket_id(request), *ids[1:]]


def in_default_bucket(request: Request) -> bool:
    return bool(request.matchdict) and request.matchdict.get("bucket_id") == DEFAULT


def create(request: Request, kind: ResourceSpec, parent_uri: str, kind_id: str) -> None:
    """Create the default bucket, or a collection in it, on first use."""
    state = transaction.current(request)
    created = state.session.create(kind.name, parent_uri, {"id": kind_id})
    if kind is BUCKET:
        state.session.set_permissions(
            object_uri(kind, parent_uri, kind_id),
            {"write": {request.authenticated_userid}},
            new_object=True,
        )
        request.authorizer.forget(object_uri(kind, parent_uri, kind_id))
    state.changes.append(
        Change.make("create", kind.name, parent_uri, None, created, request.authenticated_userid)
    )


def object_id(request: Request, spec: ResourceSpec, raw_id: str) -> str:
    """The id of an object endpoint, creating the default bucket when it is the object."""
    if spec is not BUCKET or raw_id != DEFAULT:
        return raw_id
    bucket_id = _users_bucket_id(request)
    if transaction.current(request).session.get(BUCKET.name, "", bucket_id) is None:
        create(request, BUCKET, "", bucket_id)
    return bucket_id
