"""registry_spec: the registry HTTP API as data, and the renderer of generated/."""
