"""registry_generated: files written only by `registry-spec render`; shipped as package data."""
