"""What a listener may raise to tell the relay how a delivery failed.

Any other exception is a failure to retry with backoff, counting an attempt.
These two say more: the target refused this event for good, or the target
is not there at all.
"""

from __future__ import annotations


class Rejected(Exception):
    """The target refused this event and always will (a 4xx, a bad address).

    The entry becomes a dead letter at once, with this message as its reason;
    retrying would only fail again.
    """


class Unavailable(Exception):
    """The target is down (connection refused, timed out): nothing is wrong with the event.

    The listener pauses without using up the entry's attempts, and delivery
    resumes in order once the target answers again.
    """
