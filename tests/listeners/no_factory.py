"""A module without load_from_config."""
