"""registry_impl: the registry server, its storage, and the client library."""

import warnings

# connexion imports Starlette's test client at import time, which warns about httpx; it is not used.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
