"""``registry-token-server``: issues the Bearer tokens registries configured with ``auth.token`` verify.

Modules: ``acl`` (who may do what), ``keys`` (the signing key and its certificate), ``tokens``
(issuing access and refresh tokens), ``app`` (the Starlette endpoint), ``cli`` (the console script).
"""

from __future__ import annotations

from registry_toolkit.token_server.cli import main

__all__ = ["main"]
