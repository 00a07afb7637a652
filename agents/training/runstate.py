"""Run state on disk: the atomic, pickle-free checkpoint that lets a training run resume exactly.

A run directory holds ``checkpoint.pt`` (everything needed to continue: model, optimizer,
curriculum, epoch, history and every random state), ``history.json`` and ``models/epoch_XXXX.pt``.
Files are written to a temporary name in the same directory and moved into place with
``os.replace``, so a crash leaves either the previous file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.training.checkpoint import safe_load, torch_save, write_atomic
from memtasks.checks import first_line

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"
MODELS = "models"
FORMAT = "memtasks-run"
VERSION = 1
# what a run checkpoint must hold, and of which types (the history is checked where it is read)
ENTRIES: dict[str, type | tuple[type, ...]] = {
    "epoch": int, "heads": list, "model": dict, "optimizer": dict, "param_names": list,
    "curriculum": (dict, type(None)), "history": dict, "rng": dict, "config": dict}


def check_plain(obj: Any, where: str = "state") -> None:
    """Raise TypeError naming the first entry that ``torch.load(weights_only=True)`` would refuse."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            check_plain(key, f"{where} key")
            check_plain(value, f"{where}[{key!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            check_plain(value, f"{where}[{i}]")
    elif not (obj is None or type(obj) in (bool, int, float, str) or isinstance(obj, torch.Tensor)):
        raise TypeError(f"{where} is a {type(obj).__name__}; a run checkpoint holds only tensors, "
                        f"numbers, strings, lists and dicts")


def remove_stale_temps(directory: str | os.PathLike) -> None:
    """Delete temporary files that a run killed mid-write left in ``directory`` and its models."""
    directory = Path(directory)
    for pattern in (f".{CHECKPOINT}.*.tmp", f".{HISTORY}.*.tmp", f"{MODELS}/.epoch_*.pt.*.tmp"):
        for tmp in directory.glob(pattern):
            tmp.unlink(missing_ok=True)


def save_state(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a run state (tensors, numbers, strings, lists, dicts only) atomically."""
    check_plain(state)
    write_atomic(path, lambda tmp: torch_save({"format": FORMAT, "version": VERSION, **state}, tmp))


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented JSON atomically."""
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
    write_atomic(path, write)


def load_state(path: str | os.PathLike) -> dict[str, Any]:
    """Read a run state written by :func:`save_state`; never runs code stored in the file.

    Raises FileNotFoundError if it is missing and ValueError naming the file if it is empty,
    truncated, foreign or holds anything but plain data.
    """
    path = Path(path)
    state = safe_load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a memtasks run checkpoint")
    if state.get("version") != VERSION:
        raise ValueError(f"{path} has run checkpoint version {state.get('version')!r}; "
                         f"this version of memtasks reads version {VERSION}")
    for key, kinds in ENTRIES.items():
        if key not in state:
            raise ValueError(f"{path} is a damaged run checkpoint: it has no {key!r}")
        if not isinstance(state[key], kinds):
            raise ValueError(f"{path} is a damaged run checkpoint: {key!r} is a "
                             f"{type(state[key]).__name__}")
    try:
        check_rng(state["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path} is a damaged run checkpoint: its random state is not one "
                         f"({first_line(error)})"
                         ) from None
    return state


def check_rng(state: dict[str, Any]) -> None:
    """Raise unless ``state`` is one :func:`restore_rng` can put back (tried on fresh generators)."""
    if not isinstance(state["torch"], torch.Tensor):
        raise TypeError(f"'torch' is a {type(state['torch']).__name__}")
    torch.Generator().set_state(state["torch"])
    np.random.default_rng().bit_generator.state = state["numpy"]
    random.Random().setstate(state["python"])


def capture_rng(generator: np.random.Generator, device: torch.device) -> dict[str, Any]:
    """Every random state a run draws from: torch (CPU, and CUDA if used), numpy, Python."""
    state = {"torch": torch.get_rng_state(), "numpy": generator.bit_generator.state,
             "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], generator: np.random.Generator, device: torch.device) -> None:
    """Put back the random states captured by :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    generator.bit_generator.state = state["numpy"]
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
