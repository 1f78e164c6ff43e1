"""Raw config values from the running Pulumi program (`pulumi.Config`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pulumi


class PulumiConfigValues(Mapping[str, str | None]):
    """A read-only mapping of `namespace:key` to the raw string Pulumi holds (or None)."""

    def __getitem__(self, full_key: str) -> str | None:
        namespace, _, key = full_key.partition(":")
        return pulumi.Config(namespace).get(key)

    def get(self, full_key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self[full_key]
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:  # pragma: no cover - keys are looked up, never listed
        return iter(())

    def __len__(self) -> int:  # pragma: no cover
        return 0
