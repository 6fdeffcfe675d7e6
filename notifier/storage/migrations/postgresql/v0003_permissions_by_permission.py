"""Index what a principal holds by permission too.

A user's group memberships (``member``) and the objects it may read or write
are then index seeks, however many records its ``write`` permission covers.
The index of v0001 held (principal, object_uri) only, so every request read
all of its user's permission rows to find the few ``member`` ones.
"""

SQL = """
DROP INDEX permissions_by_principal;
CREATE INDEX permissions_by_principal ON permissions (principal, permission, object_uri);
"""
