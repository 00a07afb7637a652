"""The head-set interface a curriculum changes the task through, for every kind of env it wraps.

- an env (or a native vector env) whose ``env.unwrapped`` offers ``heads`` and ``set_heads(Ns)``;
- a Gymnasium ``SyncVectorEnv`` or ``AsyncVectorEnv`` whose copies offer them: the heads are read from
  the copies (``get_attr``), set on all of them (``call``), and the vector env's action spaces and spec
  follow, as the native vector env's do.
"""

from __future__ import annotations

from typing import Any

from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv
from gymnasium.vector.utils import batch_space

from memtasks.checks import reject

COPIES = (SyncVectorEnv, AsyncVectorEnv)


def check_head_set(env: Any) -> None:
    """Raise unless `env` offers the head-set interface (see the module docstring)."""
    base = env.unwrapped
    if isinstance(base, COPIES):
        try:
            base.get_attr("heads")
            return
        except AttributeError:
            pass
    elif hasattr(base, "heads") and callable(getattr(base, "set_heads", None)):
        return
    raise reject("env", base, "an env whose env.unwrapped offers heads and set_heads(Ns) (the memtasks envs and "
                 'their native vector env, vectorization_mode="vector_entry_point", do) or a sync/async vector env '
                 "of such envs", TypeError)


def get_heads(env: Any) -> tuple[int, ...]:
    """The task's current head set."""
    base = env.unwrapped
    if not isinstance(base, COPIES):
        return tuple(base.heads)
    heads = {tuple(h) for h in base.get_attr("heads")}
    if len(heads) != 1:
        raise reject("env", base, f"one head set for all copies; they have {sorted(heads)}")
    return heads.pop()


def set_heads(env: Any, heads: tuple[int, ...]) -> None:
    """Make `heads` the task's head set (of every copy, for a sync/async vector env)."""
    base = env.unwrapped
    if not isinstance(base, COPIES):
        base.set_heads(heads)
        return
    base.call("set_heads", heads)
    base.single_action_space = base.get_attr("action_space")[0]
    base.action_space = batch_space(base.single_action_space, base.num_envs)
    if base.spec is not None:
        base.spec.kwargs["N"] = heads
