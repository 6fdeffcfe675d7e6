"""The delivery core's part of the app: listeners, dispatcher, relay, heartbeat.

``config.include("notifier.delivery.setup")`` loads and checks the INI's
listeners, checks the timing settings against each other, and registers the
listeners (``config.add_listener``) and the outbox heartbeat.  Pyramid is
only met through the ``config`` it is given: this module imports none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifier.delivery.changes import AfterCommit, BeforeCommit
from notifier.delivery.dispatcher import Dispatcher
from notifier.delivery.heartbeat import OutboxHealth
from notifier.delivery.loader import LoadedListener, load_listeners
from notifier.delivery.relay import Relay
from notifier.retry import RetryPolicy
from notifier.settings import Section, SettingsError
from notifier.state import state_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

LEASE_KEY = "notifier.outbox.lease"
RETENTION_KEY = "notifier.outbox.retention"


def check_timing(
    settings: Mapping[str, Any], lease: float, listeners: Sequence[LoadedListener]
) -> None:
    """The lease must outlast the longest delivery a listener may take.

    An entry is leased to whoever delivers it (the request after commit, or a
    relay) for ``notifier.outbox.lease`` seconds; if a delivery could outlast
    it, another relay would deliver the same entry again.  A listener's
    timeouts (``timeouts``: INI key -> seconds) bound its delivery.
    """
    for loaded in listeners:
        timeouts = dict(loaded.timeouts())
        if timeouts and sum(timeouts.values()) >= lease:
            keys = " + ".join(f"{key} ({value:g} s)" for key, value in sorted(timeouts.items()))
            raise SettingsError(
                LEASE_KEY,
                f"must be longer than a delivery to listener {loaded.name!r} may take:"
                f" {keys} = {sum(timeouts.values()):g} s",
                settings.get(LEASE_KEY),
            )


def includeme(config: Any) -> None:
    """Load and check the INI's listeners; subscribe the dispatcher; make the relay."""
    settings = config.get_settings()
    state = state_of(config.registry)
    listeners: list[LoadedListener] = []
    for loaded in load_listeners(config, settings):
        state.opened.append(loaded)  # closed by shutdown, even if a later one fails
        listeners.append(loaded)
    outbox = Section(settings, "notifier.outbox.")
    policy = RetryPolicy.from_section(outbox)
    lease = outbox.float("lease", minimum=0.001)
    retention = outbox.float("retention", minimum=0.001)
    if retention <= lease:
        raise SettingsError(
            RETENTION_KEY,
            f"must be longer than {LEASE_KEY} ({lease:g} s), or entries would be dead"
            " letters while they are being delivered",
            settings.get(RETENTION_KEY),
        )
    relay = Section(settings, "notifier.relay.")
    state.relay_interval = relay.float("interval", minimum=0.01)
    state.relay_in_process = relay.bool("in_process")
    check_timing(settings, lease, listeners)
    dispatcher = Dispatcher(state.storage, state.listeners, policy, lease, state.observers)
    state.dispatcher_ = dispatcher
    state.relay_ = Relay(
        state.storage,
        state.listeners,
        policy,
        lease=lease,
        retention=retention,
        registry=config.registry,
        observers=state.observers,
    )
    config.add_subscriber(dispatcher.before_commit, BeforeCommit)
    config.add_subscriber(dispatcher.after_commit, AfterCommit)
    config.add_heartbeat("outbox", OutboxHealth.from_settings(settings))
    state.heartbeat_timeout = Section(settings, "notifier.heartbeat.").float(
        "timeout", minimum=0.001
    )
    for loaded in listeners:
        config.add_listener(loaded)
