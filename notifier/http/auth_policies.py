"""``notifier.auth_policies``: which authentication policies, in what order.

Kinto's ``multiauth.policies``: each policy is tried on the request's Basic
credentials and the first that answers gives the userid.  ``basicauth`` is
built in; a plugin adds others with ``config.add_auth_policy(name,
identify)`` (the accounts plugin adds ``account``).  The setting is checked
once every plugin is included (``choose_policies``), so it may name theirs.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from notifier.http.auth import BasicAuthSecurityPolicy, Identify
from notifier.settings import SettingsError, as_choices, as_list

KEY = "notifier.auth_policies"


def _policy(config: Configurator) -> BasicAuthSecurityPolicy:
    policy: BasicAuthSecurityPolicy = config.registry.notifier_security_policy
    return policy


def add_auth_policy(config: Configurator, name: str, identify: Identify) -> None:
    """Directive: a policy ``notifier.auth_policies`` may name.

    ``identify(request, user, password)`` returns the userid (with its
    prefix, e.g. ``account:alice``) or None to let the next policy try.
    """
    policy = _policy(config)
    if name in policy.available:
        raise ConfigurationError(f"authentication policy {name!r} is added twice")
    policy.available[name] = identify


def choose_policies(config: Configurator) -> None:
    """Check ``notifier.auth_policies`` against the policies added, and use them in order."""
    policy = _policy(config)
    settings = config.get_settings()
    raw = settings.get(KEY, "basicauth")
    if not as_list(raw):
        raise SettingsError(KEY, "expected at least one of " + ", ".join(policy.available), raw)
    if "account" in as_list(raw) and "account" not in policy.available:
        raise SettingsError(
            KEY, "'account' needs notifier.plugins.accounts in notifier.includes", raw
        )
    names = as_choices(KEY, raw, policy.available)
    settings[KEY] = names
    policy.policies = [policy.available[name] for name in names]


def includeme(config: Configurator) -> None:
    config.add_directive("add_auth_policy", add_auth_policy)
