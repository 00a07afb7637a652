"""Where a network may run: the CPU or an available CUDA GPU."""

from __future__ import annotations

from typing import Any

import torch


def check_device(device: Any, name: str = "device") -> torch.device:
    """``device`` as a torch.device on which this machine can run: the CPU or an available CUDA GPU."""
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name}={device!r} is not accepted: expected 'cpu', 'cuda' or 'cuda:<i>'")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name}={device!r} is not accepted: expected 'cpu', 'cuda' or "
                         f"'cuda:<i>'") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={str(device)!r} is not available: torch sees no CUDA GPU")
        device = torch.device("cuda", device.index if device.index is not None
                              else torch.cuda.current_device())
    elif device.type != "cpu":
        raise ValueError(f"{name}={str(device)!r} is not accepted: expected 'cpu' or 'cuda'")
    return device
