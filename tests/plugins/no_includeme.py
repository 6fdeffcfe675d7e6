"""A module named in notifier.includes by mistake: it has no includeme."""
