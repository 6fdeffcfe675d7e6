"""A listener written the way Kinto's "run custom code on notifications" tutorial
writes one; only the ListenerBase import line differs from a Kinto module."""

from pyramid.settings import asbool, aslist

from notifier.listeners import ListenerBase  # Kinto: from kinto.core.listeners import ...


class Listener(ListenerBase):
    def __init__(self, collections, uppercase):
        self.collections = set(collections)
        self.uppercase = uppercase
        self.received = []

    def __call__(self, event):
        for change in event.impacted_objects:
            collection = event.payload.get("collection_id")
            if collection not in self.collections:
                continue
            note = change["new"].get("note", "")
            self.received.append(note.upper() if self.uppercase else note)


def load_from_config(config, prefix=""):
    settings = config.get_settings()
    collections = aslist(settings[prefix + "collections"])
    uppercase = asbool(settings.get(prefix + "uppercase", "false"))
    return Listener(collections, uppercase)
