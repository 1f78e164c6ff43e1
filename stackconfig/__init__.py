"""Typed, validated stack configuration.

`load(values, project=..., stack=...)` reads every setting of every section and
raises `ConfigError` listing all problems before the program declares anything.
Each concern has its own module with a frozen dataclass and a `load(reader)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import app, core, data, detection, edge, log_archive, network, policy, relay
from .reader import ConfigError, Reader

__all__ = ["ConfigError", "StackConfig", "load", "load_reader", "policy"]


@dataclass(frozen=True)
class StackConfig:
    core: core.CoreConfig
    network: network.NetworkConfig
    edge: edge.EdgeConfig
    log_archive: log_archive.LogArchiveConfig
    data: data.DataConfig
    detection: detection.DetectionConfig
    app: app.AppConfig
    relay: relay.RelayConfig


def load_reader(values: Mapping[str, str | None], *, project: str, stack: str) -> tuple[StackConfig, Reader]:
    """Like `load`, but also returns the reader (tests use `reader.read`)."""
    r = Reader(values)
    core_cfg = core.load(r, project=project, stack=stack)
    network_cfg = network.load(r)
    edge_cfg = edge.load(r, core_cfg)
    cfg = StackConfig(
        core=core_cfg,
        network=network_cfg,
        edge=edge_cfg,
        log_archive=log_archive.load(r),
        data=data.load(r, core_cfg),
        detection=detection.load(r, core_cfg),
        app=app.load(r, core_cfg),
        relay=relay.load(r, core_cfg, edge_cfg),
    )
    r.finish()
    return cfg, r


def load(values: Mapping[str, str | None], *, project: str, stack: str) -> StackConfig:
    return load_reader(values, project=project, stack=stack)[0]
