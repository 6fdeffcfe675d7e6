"""Helpers for the event tests: an app with listeners, and Basic-auth headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from webtest import TestApp

from tests.conftest import ALICE, SECRET
from tests.helpers import close_app, open_app

__all__ = ["ALICE", "SECRET", "make_app", "with_listeners", "listener"]

RECORDS = "/v1/buckets/b/collections/c/records"


def make_app(tmp_path: Path, **settings: Any) -> TestApp:
    base = {
        "notifier.storage_url": str(tmp_path / "notifier.sqlite"),
        "notifier.userid_hmac_secret": SECRET,
        "notifier.relay.in_process": "false",
    }
    return open_app(**{**base, **settings})


def with_listeners(tmp_path: Path, names: str, **settings: Any) -> TestApp:
    """An app whose listeners are ``names``, each a recorder unless ``settings`` say."""
    listeners = {
        f"notifier.event_listeners.{n}.use": "tests.listeners.recorder" for n in names.split()
    }
    return make_app(tmp_path, **{"notifier.event_listeners": names, **listeners, **settings})


def app_factory(tmp_path: Path, backend: Mapping[str, str]) -> Iterator[Callable[..., TestApp]]:
    """``with_listeners`` on ``backend``'s storage; the apps' storages close at the end."""
    made: list[TestApp] = []

    def make(names: str, **settings: Any) -> TestApp:
        app = with_listeners(tmp_path, names, **{**backend, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


def session_class(app: TestApp) -> type:
    """The class of the app's sessions, for a test that injects a fault into it."""
    session = app.app.registry.notifier.storage.session(write=False)
    session.rollback()
    return type(session)


def listener(app: TestApp, name: str) -> Any:
    for loaded in app.app.registry.notifier.listeners:
        if loaded.name == name:
            return loaded.listener
    raise KeyError(name)


def create_collection(app: TestApp) -> None:
    app.put_json("/v1/buckets/b", {}, headers=ALICE)
    app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
