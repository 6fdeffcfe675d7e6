"""The four kinds of object (buckets, collections, records, groups) and where they live."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from notifier.http.errors import ERRORS, http_error

ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$")
ID_RULE = "ids are 1 to 255 letters, digits, '-' or '_', starting with a letter or a digit"


@dataclass(frozen=True)
class ResourceSpec:
    """A kind of object: its names, its parent kind and how new ids are made."""

    name: str
    plural: str
    parent: ResourceSpec | None
    new_id: Callable[[], str]

    @property
    def plural_path(self) -> str:
        if self.parent is None:
            return f"/{self.plural}"
        return (
            f"{self.parent.object_path.replace('{id}', '{' + self.parent.name + '_id}')}"
            f"/{self.plural}"
        )

    @property
    def object_path(self) -> str:
        return f"{self.plural_path}/{{id}}"

    def lineage(self) -> list[ResourceSpec]:
        """The kinds from the bucket down to this one."""
        chain: list[ResourceSpec] = []
        spec: ResourceSpec | None = self
        while spec is not None:
            chain.insert(0, spec)
            spec = spec.parent
        return chain


BUCKET = ResourceSpec("bucket", "buckets", None, lambda: secrets.token_hex(4))
COLLECTION = ResourceSpec("collection", "collections", BUCKET, lambda: secrets.token_hex(4))
RECORD = ResourceSpec("record", "records", COLLECTION, lambda: str(uuid.uuid4()))
GROUP = ResourceSpec("group", "groups", BUCKET, lambda: secrets.token_hex(4))
SPECS = (BUCKET, COLLECTION, RECORD, GROUP)


def checked_id(value: object, location: str = "path", name: str = "id") -> str:
    """Return ``value`` if it is a valid object id, else raise a 400 (errno 110)."""
    if isinstance(value, str) and ID_PATTERN.match(value):
        return value
    raise http_error(
        400,
        ERRORS.INVALID_RESOURCE_ID,
        f"Invalid id {value!r} in {location}: {ID_RULE}",
        details=[{"location": location, "name": name, "description": ID_RULE}],
    )


def object_uri(spec: ResourceSpec, parent_uri: str, object_id: str) -> str:
    return f"{parent_uri}/{spec.plural}/{object_id}"


def parent_ids(spec: ResourceSpec, matchdict: Mapping[str, str]) -> list[str]:
    """The ids of the ancestors named in the URL, bucket first."""
    return [matchdict[f"{kind.name}_id"] for kind in spec.lineage()[:-1]]
