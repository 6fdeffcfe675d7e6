"""A user's listener module whose own import fails: the error must show as itself."""

import a_module_that_does_not_exist  # noqa: F401


def load_from_config(config, prefix):
    return lambda event: None
