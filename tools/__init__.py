"""registry_toolkit: console scripts (spec rendering, validator, benchmark, token server, CLI)."""
