"""What a validation run is told: the target, credentials, namespaces, workflows, optional features, TLS, fuzzing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

WORKFLOWS = ("pull", "push", "discovery", "management", "docker")

# Optional features: a registry that does not offer one ends its checks as unsupported-optional, unless the
# user expects it (--expect), in which case its absence is a failure.
FEATURES: dict[str, str] = {
    "referrers": "the referrers API, GET /v2/<name>/referrers/<digest> (OCI end-12a/12b)",
    "monolithic-post": "single-request upload, POST /v2/<name>/blobs/uploads/?digest= with the blob (OCI end-4b)",
    "mount-without-from": "cross-repository mount without `from`, any repository as the source (OCI end-11)",
    "deletes": "manifest, tag and blob deletes (OCI end-9, end-10)",
    "catalog": "the repository catalog, GET /v2/_catalog (Docker Registry V2)",
    "empty-layers": "image manifests with no layers (OCI image-spec 1.1)",
    "tag-params": "manifest PUT by digest with ?tag= parameters, answered with OCI-Tag (OCI distribution-spec 1.2)",
    "sha512": "manifests addressed by a sha512 digest (the redesigned OCI suite's sha512 data)",
    "sparse": "sparse manifests: an image missing a layer, an index missing a child (the redesigned suite's data)",
}


def random_namespace() -> str:
    return f"validate/{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Options:
    """Everything a run needs; ``verify`` is True, False (--insecure) or a CA bundle path (--cacert)."""

    url: str
    namespace: str = field(default_factory=random_namespace)
    crossmount_namespace: str | None = None
    username: str | None = None
    password: str | None = None
    workflows: tuple[str, ...] = WORKFLOWS
    expect: frozenset[str] = frozenset()
    deletes: bool = True
    verify: bool | str = True
    timeout: float = 30.0
    seed: int | None = None
    fuzz: bool = False
    max_examples: int = 50
    fuzz_seconds: float | None = None

    def __post_init__(self) -> None:
        unknown = set(self.workflows) - set(WORKFLOWS)
        if unknown:
            raise ValueError(
                f"unknown workflows: {', '.join(sorted(unknown))} (known: {', '.join(WORKFLOWS)})"
            )
        unknown = set(self.expect) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features: {', '.join(sorted(unknown))} (known: {', '.join(FEATURES)})")

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    @property
    def crossmount(self) -> str:
        """The repository cross-mount checks mount into."""
        return self.crossmount_namespace or f"{self.namespace}-crossmount"

    def expects(self, feature: str) -> bool:
        return feature in self.expect
