"""Development helpers: a private Redis server and children tied to their parent.

Used by ``serve --dev`` and the tests; imports nothing of the HTTP layer.
"""
