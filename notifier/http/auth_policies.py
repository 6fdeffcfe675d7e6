"""``notifier.auth_policies``: which authentication policies, in what order.

Kinto's ``multiauth.policies``: each policy is tried on the request's Basic
credentials and the first that answers gives the userid.  ``basicauth`` is
built in; a plugin adds others with ``config.add_auth_policy(name,
identify)`` (the accounts plugin adds ``account``).  The setting is checked
once every plugin is included (``config.choose_auth_policies()``), so it may
name theirs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from notifier.settings import SettingsError, as_choices, as_list

if TYPE_CHECKING:
    from notifier.http.auth import BasicAuthSecurityPolicy, Identify

KEY = "notifier.auth_policies"


def add_auth_policy(policy: BasicAuthSecurityPolicy, name: str, identify: Identify) -> None:
    """Make ``identify`` a policy ``notifier.auth_policies`` may name.

    ``identify(request, user, password)`` returns the userid (with its
    prefix, e.g. ``account:alice``) or None to let the next policy try.
    """
    if name in policy.available:
        raise ConfigurationError(f"authentication policy {name!r} is added twice")
    policy.available[name] = identify


def choose_policies(policy: BasicAuthSecurityPolicy, settings: dict[str, object]) -> None:
    """Check ``notifier.auth_policies`` against the policies added, and use them in order."""
    raw = settings.get(KEY, "basicauth")
    if not as_list(raw):
        raise SettingsError(KEY, "expected at least one of " + ", ".join(policy.available), raw)
    if "account" in as_list(raw) and "account" not in policy.available:
        needs = "'account' needs notifier.plugins.accounts in notifier.includes"
        raise SettingsError(KEY, needs, raw)
    names = as_choices(KEY, raw, policy.available)
    settings[KEY] = names
    policy.policies = [policy.available[name] for name in names]


def add_policy_directives(config: Configurator, policy: BasicAuthSecurityPolicy) -> None:
    """``config.add_auth_policy(name, identify)`` and ``config.choose_auth_policies()``,
    both about ``policy``, the app's security policy."""

    def add(config: Configurator, name: str, identify: Identify) -> None:
        add_auth_policy(policy, name, identify)

    def choose(config: Configurator) -> None:
        choose_policies(policy, config.get_settings())

    config.add_directive("add_auth_policy", add)
    config.add_directive("choose_auth_policies", choose)
