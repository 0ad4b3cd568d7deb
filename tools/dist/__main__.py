"""``python -m registry_toolkit.dist``."""

from .cli import run

run()
