"""registry_impl: the registry server, its storage, and the client library."""
