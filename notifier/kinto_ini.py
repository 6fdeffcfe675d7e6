"""An INI written for Kinto, read as notifier's: ``kinto.*`` keys become ``notifier.*``.

Each Kinto key is translated by one table: same name under ``notifier.``,
``multiauth.policies`` as ``notifier.auth_policies``, and the values that
name Kinto modules (``kinto.plugins.accounts``, ``kinto.core.storage.postgresql``)
as notifier's.  The keys of Kinto's separate permission and cache backends
are dropped: notifier keeps permissions in its storage and has no cache.
Any other Kinto key, or a Kinto module with no notifier twin, stops the
start with a SettingsError naming it.  ``load_settings`` calls ``translate``
first, and one INFO line lists what was translated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from notifier.settings import DEFAULTS, SettingsError, as_list

log = logging.getLogger(__name__)

#: Names (after ``kinto.``) that notifier reads under the same name.
SAME_NAMES = set(DEFAULTS) | {
    "includes",
    "account_create_principals",
    "account_write_principals",
    "account_read_principals",
    "experimental_permissions_endpoint",
}

#: Kinto modules named in values, and their notifier twins.
MODULES = {
    "kinto.plugins.accounts": "notifier.plugins.accounts",
    "kinto.plugins.flush": "notifier.plugins.flush",
    "kinto.core.storage.postgresql": "notifier.storage.postgresql",
}

#: Kinto keys whose job notifier's storage does (permissions) or that it has no use for.
DROPPED = {
    "permission_backend",
    "permission_url",
    "permission_pool_size",
    "cache_backend",
    "cache_url",
    "cache_prefix",
    "cache_pool_size",
    "cache_max_size_bytes",
}

AUTH_POLICIES = ("account", "basicauth")


def _module(key: str, word: str) -> str:
    """``word`` itself, or its notifier twin when it names a Kinto module."""
    if word in MODULES:
        return MODULES[word]
    if word.startswith("kinto.") or word == "kinto":
        known = ", ".join(sorted(MODULES))
        raise SettingsError(key, f"{word!r} has no notifier equivalent; known: {known}", word)
    return word


def _value(key: str, name: str, raw: Any) -> Any:
    if name == "includes":
        return " ".join(_module(key, word) for word in as_list(raw))
    if name == "storage_backend" or (name.startswith("event_listeners.") and name.endswith(".use")):
        return _module(key, str(raw).strip())
    return raw


def _policies(key: str, raw: Any) -> str:
    words = as_list(raw)
    for word in words:
        if word not in AUTH_POLICIES:
            accepted = ", ".join(AUTH_POLICIES)
            raise SettingsError(
                key, f"policy {word!r} has no notifier equivalent; known: {accepted}"
            )
    return " ".join(words)


def _translate_one(key: str, raw: Any) -> tuple[str | None, Any]:
    """The notifier key and value of one Kinto key (None: dropped)."""
    if key == "multiauth.policies":
        return "notifier.auth_policies", _policies(key, raw)
    if key.startswith("multiauth.policy."):
        policy = key.split(".")[2]
        if policy in AUTH_POLICIES:
            return None, raw  # implied by notifier.auth_policies
        raise SettingsError(key, f"policy {policy!r} has no notifier equivalent", raw)
    name = key[len("kinto.") :]
    if name in DROPPED:
        return None, raw
    if name in SAME_NAMES or name.startswith("event_listeners."):
        return "notifier." + name, _value(key, name, raw)
    raise SettingsError(key, "this Kinto setting has no notifier equivalent")


def is_kinto_key(key: str) -> bool:
    return key.startswith("kinto.") or key.startswith("multiauth.")


def translate(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with each Kinto key replaced by its notifier twin."""
    translated: dict[str, Any] = {k: v for k, v in settings.items() if not is_kinto_key(k)}
    done: list[str] = []
    for key in sorted(k for k in settings if is_kinto_key(k)):
        target, value = _translate_one(key, settings[key])
        if target is None:
            done.append(f"{key} (dropped)")
            continue
        if target in settings:
            raise SettingsError(key, f"is set twice, also as {target}", settings[key])
        translated[target] = value
        done.append(f"{key} -> {target}")
    if done:
        log.info("read Kinto settings as notifier's: %s", ", ".join(done))
    return translated
