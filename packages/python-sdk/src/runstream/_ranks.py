"""Which rank of a distributed job this process is, and the producer id every point it logs carries."""

from __future__ import annotations

import os
import socket
import sys

from ._version import __version__


def detect_rank() -> tuple[int | None, int | None]:
    """(rank, world size) from RANK / WORLD_SIZE (torchrun, accelerate, DeepSpeed), else from torch.distributed
    when the program already initialised it (never imported here), else (None, None)."""
    rank = os.environ.get("RANK")
    world = os.environ.get("WORLD_SIZE")
    if rank is not None and rank.strip().isdigit():
        return int(rank), int(world) if world and world.strip().isdigit() else None
    dist = sys.modules.get("torch.distributed")
    if dist is not None:
        try:
            if dist.is_available() and dist.is_initialized():
                return int(dist.get_rank()), int(dist.get_world_size())
        except Exception:
            pass
    return None, None


def producer_id(rank: int | None, world_size: int | None) -> str:
    """`rank=<r>/<world> host=<h> pid=<p> sdk=runstream-python/<v>`; the rank part only when known. The query
    side reads the rank back from the leading `rank=` field."""
    parts = []
    if rank is not None:
        parts.append(f"rank={rank}/{world_size if world_size is not None else '?'}")
    parts += [f"host={socket.gethostname()}", f"pid={os.getpid()}", f"sdk=runstream-python/{__version__}"]
    return " ".join(parts)
