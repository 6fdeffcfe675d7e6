"""A plugin whose own import fails: the error must surface as itself."""

import a_module_that_is_not_installed  # noqa: F401
