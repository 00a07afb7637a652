"""Model files: save and load the project's models, and import the paper's trained networks.

A model file is ``torch.save`` of plain data only — ``{"format", "kind", "config", "heads",
"state_dict"}`` — and is read back with ``torch.load(weights_only=True)``, so loading never runs
code stored in a file. Writes are atomic (a temporary file in the same directory, then
``os.replace``), so a crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import itertools
import os
import secrets
import stat
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from agents.models.device import check_device
from agents.models.gated import GRU, LSTM
from agents.models.heads import HeadedModel
from agents.models.leaky_rnn import LeakyRNN
from agents.models.protocol import unwrap
from memtasks.checks import check_heads, first_line

FORMAT = "memtasks-model-v1"
KINDS: dict[str, type[HeadedModel]] = {"leaky": LeakyRNN, "gru": GRU, "lstm": LSTM}


class WriteError(OSError):
    """A file could not be written (disk full, a file-size limit, no permission, a name too long);
    the previous version of the file, if any, is kept."""

    def __str__(self) -> str:
        return f"cannot write '{self.filename}': {self.strerror}"


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it onto ``path``.

    The file and then its directory are flushed to disk, so after a crash or power cut ``path``
    holds either its previous content or the new one in full, never a mix. The file gets mode
    0666 less the umask (as ``open`` gives), so a group that may read the directory may read it.
    An operating-system error (disk full, …) becomes a :class:`WriteError` naming ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            write(str(tmp))
            with open(tmp, "rb") as file:
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        raise WriteError(error.errno, error.strerror or str(error), str(path)) from None


def torch_save(obj: object, path: str | os.PathLike) -> None:
    """``torch.save`` through a Python file, so that a full disk is an OSError with its errno
    (torch's own file writer reports it as an opaque RuntimeError)."""
    with open(path, "wb") as file:
        torch.save(obj, file)


def safe_load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> object:
    """``torch.load(weights_only=True)`` with one-line errors naming the file.

    FileNotFoundError for a missing file; ValueError for an empty, truncated, foreign or hostile
    one (a pickle that would build arbitrary objects is refused before anything in it runs).
    """
    path = Path(path)
    map_location = check_device(map_location, "map_location")
    if not path.exists():
        raise FileNotFoundError(f"no such file: '{path}'")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else _file_kind(path)
        raise ValueError(f"cannot load '{path}': it is {kind}, not a regular file")
    if path.stat().st_size == 0:
        raise ValueError(f"cannot load '{path}': the file is empty")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols of foreign files
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types here; all mean "not a safe torch file"
        reason = ("it is not a torch file of tensors and plain data (refused; nothing in it was run)"
                  if "weights_only" in str(error) or "Unsupported" in str(error)
                  else "it is truncated or not a torch file")
    raise ValueError(f"cannot load '{path}': {reason}")


def _file_kind(path: Path) -> str:
    mode = path.stat().st_mode
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")


def check_shapes(expected: dict[str, torch.Tensor], state: dict, path: str | os.PathLike) -> None:
    """Raise ValueError naming ``path`` unless ``state`` holds a tensor of the expected shape
    under every name of ``expected`` and nothing else (cheap: compares shapes, allocates nothing)."""
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(f"cannot load '{path}': damaged model file (missing {missing}, "
                         f"unexpected {unexpected})")
    for name, tensor in expected.items():
        value = state[name]
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        if shape != tuple(tensor.shape):
            raise ValueError(f"cannot load '{path}': damaged model file ('{name}' has shape "
                             f"{shape}, its config asks for {tuple(tensor.shape)})")


def save(model: HeadedModel, path: str | os.PathLike) -> None:
    """Write ``model`` (kind, constructor config, heads, weights on CPU) to ``path`` atomically;
    a ``torch.compile`` wrapper is saved as the model inside it."""
    model = unwrap(model)
    kind = getattr(model, "kind", None)
    if kind not in KINDS or not isinstance(model, KINDS[kind]):
        raise TypeError(f"model of type {type(model).__name__} cannot be saved by agents.save: "
                        f"expected one of {sorted(cls.__name__ for cls in KINDS.values())} "
                        "(save other models with torch.save(model.state_dict(), path))")
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    payload = {"format": FORMAT, "kind": kind, "config": model.config(),
               "heads": list(model.heads), "state_dict": state}
    write_atomic(path, lambda tmp: torch_save(payload, tmp))


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> HeadedModel:
    """Read a model written by :func:`save`; ValueError (naming the file) if it is not one."""
    payload = safe_load(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = (" (a network saved by the paper's code: use agents.load_reference_checkpoint)"
                if isinstance(payload, dict) and "state_dict" in payload else "")
        raise ValueError(f"cannot load '{path}': not a memtasks model file{hint}")
    kind, config, state = payload.get("kind"), payload.get("config"), payload.get("state_dict")
    if kind not in KINDS or not isinstance(config, dict) or not isinstance(state, dict):
        raise ValueError(f"cannot load '{path}': damaged model file (kind={kind!r})")
    try:
        with torch.device("meta"):  # the config's shapes, before allocating anything
            skeleton = KINDS[kind](**config)
        check_shapes(skeleton.state_dict(), state, path)
        model = KINDS[kind](**config)
        model.load_state_dict(state)
    except (TypeError, ValueError, RuntimeError) as error:
        if str(error).startswith(f"cannot load '{path}'"):
            raise
        raise ValueError(f"cannot load '{path}': damaged model file ({first_line(error)})") from None
    return model.to(map_location)


def load_reference_checkpoint(path: str | os.PathLike, heads: int | Sequence[int]) -> LeakyRNN:
    """A LeakyRNN holding a network saved by the paper's code (``{"state_dict": ...}``).

    The paper's keys: ``parameterlist.0`` τ, ``modulelist.0`` input layer, ``modulelist.1``
    recurrent layer, ``modulelist.{2+k}`` head k. ``heads`` names the N of the first stored heads
    in order (e.g. ``(2, 3, 4, 5)``); τ is kept trainable.
    """
    heads = check_heads(heads, "heads")
    payload = safe_load(path)
    state = payload.get("state_dict") if isinstance(payload, dict) else None
    if not isinstance(state, dict) or "parameterlist.0" not in state:
        raise ValueError(f"cannot load '{path}': not a network saved by the paper's code "
                         "(expected a 'state_dict' with 'parameterlist.0')")
    tau, w_in = state["parameterlist.0"], state.get("modulelist.0.weight")
    if not isinstance(tau, torch.Tensor) or tau.dim() != 1 or len(tau) == 0:
        raise ValueError(f"cannot load '{path}': 'parameterlist.0' (tau) must have shape (hidden,)")
    input_size = w_in.shape[1] if isinstance(w_in, torch.Tensor) and w_in.dim() == 2 else 1
    stored = sum(1 for _ in itertools.takewhile(lambda k: f"modulelist.{k}.weight" in state,
                                                itertools.count(2)))
    if stored < len(heads):
        raise ValueError(f"heads={heads!r} names {len(heads)} heads but '{path}' stores {stored}")
    sources = {"tau": "parameterlist.0",
               **{f"{mine}.{p}": f"modulelist.{k}.{p}"
                  for k, mine in enumerate(("input", "recurrent")) for p in ("weight", "bias")},
               **{f"readouts.linears.{n}.{p}": f"modulelist.{2 + k}.{p}"
                  for k, n in enumerate(heads) for p in ("weight", "bias")}}
    with torch.device("meta"):  # the shapes, before allocating a (hidden, hidden) matrix
        skeleton = dict(LeakyRNN(len(tau), heads, input_size=max(input_size, 1)).named_parameters())
    for name, key in sources.items():
        value = state.get(key)
        if not isinstance(value, torch.Tensor) or value.shape != skeleton[name].shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else None
            raise ValueError(f"cannot load '{path}': '{key}' has shape {shape}, "
                             f"expected {tuple(skeleton[name].shape)}")
    model = LeakyRNN(len(tau), heads, input_size=max(input_size, 1))
    targets = dict(model.named_parameters())
    with torch.no_grad():
        for name, key in sources.items():
            targets[name].copy_(state[key])
        model.recurrent.weight.mul_(model.get_buffer("mask"))
    return model

