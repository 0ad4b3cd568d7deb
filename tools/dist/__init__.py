"""registry_toolkit.dist: the ``dist`` command line (copy images between registries, OCI layouts and docker
archives; inspect, list, delete, blobs, login) on top of :mod:`registry_client`."""
