"""The curriculum rule, its state, its record and its RL self-update — one implementation for Env and VectorEnv.

A curriculum talks to the task only through its head set (`curricula.headset`: ``env.unwrapped.heads`` and
``env.unwrapped.set_heads(Ns)``, or those of every copy of a Gymnasium sync/async vector env).
`CurriculumMixin` holds everything; `Curriculum` (a `gymnasium.Wrapper`) and `VectorCurriculum` (a
`gymnasium.vector.VectorWrapper`) only add the wrapper base. A schedule is a mixin that says which
heads come next (`next_heads`); the `curriculum` decorator turns it into both wrappers.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

import gymnasium
import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from curricula.headset import check_head_set, get_heads, set_heads
from memtasks.checks import (check_bool, check_heads, check_int, check_probability, check_threshold,
                             reject)

logger = logging.getLogger("curricula")

STATE_KEYS = ("schedule", "heads", "epoch", "episodes", "finished", "changes", "stage_reached", "recent")


def check_accuracy(accuracy_by_N: object, heads: tuple[int, ...]) -> dict[int, float]:
    """{N: accuracy} for exactly the current ``heads``, every accuracy a number in [0, 1]."""
    if not isinstance(accuracy_by_N, Mapping):
        raise reject("accuracy_by_N", accuracy_by_N, "a mapping {N: accuracy}", TypeError)
    accuracy = {check_int(key, "accuracy_by_N key"): check_probability(value, f"accuracy_by_N[{key!r}]")
                for key, value in accuracy_by_N.items()}
    if set(accuracy) != set(heads):
        raise reject("accuracy_by_N", accuracy_by_N,
                     f"exactly the current heads {heads} as keys; missing N: "
                     f"{sorted(set(heads) - set(accuracy))}, extra N: {sorted(set(accuracy) - set(heads))}")
    return accuracy  # type: ignore[return-value]


@dataclass(frozen=True)
class Change:
    """One change of the head set: `before` → `heads`, made by update number `epoch` after `episode` RL episodes."""

    epoch: int
    episode: int
    before: tuple[int, ...]
    heads: tuple[int, ...]


class CurriculumMixin:
    """The paper's rule: advance when the mean accuracy over the heads and the accuracy of the largest N
    both exceed `threshold` (strictly).

    Args:
        env: the task, offering ``env.unwrapped.heads`` and ``env.unwrapped.set_heads`` (or a sync/async
            vector env of such tasks).
        threshold: accuracy to exceed, in (0, 1].
        start: a starting N or head set, applied to the env at construction (None: the env's own).
        max_N: never advance beyond this N; `finished` turns True once the last stage is solved.
        window: RL mode, the number of most recent episodes the running accuracy is taken over.

    Attributes:
        epoch: the number of `update` calls so far (the wrapper's own, in RL mode, included).
        episodes: the number of episodes seen ending in RL mode.
        changes: a `Change` per change of the head set, oldest first.
        stage_reached: {N: epoch at which N first became a head}; the starting heads at epoch 0.
        finished: True once the rule passed with no next stage left (the cap, or `Fixed`).
    """

    env: Any  # the wrapped env, set by the wrapper base (`Curriculum` or `VectorCurriculum`) before __init__
    Vector: ClassVar[type[VectorCurriculum]]  # set by `curriculum`
    Schedule: ClassVar[type[CurriculumMixin]]

    if TYPE_CHECKING:  # for type checkers: the wrapper base gives the rest of the env API (unwrapped, spaces, …)
        def __getattr__(self, name: str) -> Any: ...

    def __init__(
        self,
        env: Any,
        *,
        threshold: float = 0.98,
        start: int | Sequence[int] | None = None,
        max_N: int | None = None,
        window: int = 100,
    ) -> None:
        check_head_set(env)
        self.threshold = check_threshold(threshold)
        self.window = check_int(window, "window")
        start_heads = None if start is None else check_heads(start, "start")
        self.max_N = None if max_N is None else check_int(max_N, "max_N", max(start_heads or self.heads))
        if start_heads is not None:
            self._apply(start_heads)
        self.epoch, self.episodes, self.finished = 0, 0, False
        self.changes: list[Change] = []
        self.stage_reached: dict[int, int] = {n: 0 for n in self.heads}
        self._copies = self.num_envs if isinstance(self, VectorEnv) else 1
        self._recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=self.window)
        self._forget_episodes()

    def next_heads(self, heads: tuple[int, ...], room: float) -> tuple[int, ...]:
        """The head set after `heads` is solved, using N at most `room` above max(heads) (math.inf: no cap).

        Returning `heads` itself means there is no next stage.
        """
        raise NotImplementedError(f"{type(self).__name__} must define next_heads(heads, room)")

    @property
    def heads(self) -> tuple[int, ...]:
        """The env's current head set."""
        return get_heads(self.env)

    def update(self, accuracy_by_N: Mapping[int, float]) -> bool:
        """Apply the rule to the accuracy of each current head; return True when the head set changed."""
        heads = self.heads
        return self._apply_rule(check_accuracy(accuracy_by_N, heads), heads)

    def _apply_rule(self, accuracy: Mapping[int, float], heads: tuple[int, ...]) -> bool:
        """:meth:`update` with the accuracy checked against ``heads``, the env's current heads."""
        self.epoch += 1
        mean = sum(accuracy.values()) / len(accuracy)
        if not (mean > self.threshold and accuracy[max(heads)] > self.threshold):
            return False
        room = math.inf if self.max_N is None else self.max_N - max(heads)
        new = tuple(self.next_heads(heads, room))
        if new == heads:
            if not self.finished:
                logger.info("%s: heads %s solved at epoch %d; no next stage", type(self).__name__, heads, self.epoch)
            self.finished = True
            return False
        self._apply(new)
        self.changes.append(Change(self.epoch, self.episodes, heads, new))
        for n in new:
            self.stage_reached.setdefault(n, self.epoch)
        logger.info("%s: heads %s -> %s at epoch %d (episode %d)", type(self).__name__, heads, new, self.epoch,
                    self.episodes)
        self._recent.clear()
        self._forget_episodes(fresh=False)
        return True

    # --- RL mode -------------------------------------------------------------------------------
    @property
    def running_accuracy(self) -> dict[int, float]:
        """RL mode: {N: accuracy over the labelled steps of the last `window` episodes} (NaN: none yet)."""
        return self._running_accuracy(self.heads)

    def _running_accuracy(self, heads: tuple[int, ...]) -> dict[int, float]:
        correct = sum((c for c, _ in self._recent), np.zeros(len(heads), np.int64))
        labelled = sum((n for _, n in self._recent), np.zeros(len(heads), np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            accuracy = correct / labelled
        return {n: float(a) for n, a in zip(heads, accuracy)}

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step the env; count `info["correct"]` where `info["labels"] >= 0`; apply the rule at episode ends."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._observe(info, np.logical_or(terminated, truncated).reshape(self._copies))
        return obs, reward, terminated, truncated, info

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env; episodes in progress are dropped from the running accuracy."""
        result = self.env.reset(seed=seed, options=options)
        self._forget_episodes()
        return result

    def _observe(self, info: Mapping[str, Any], done: np.ndarray) -> None:
        if "labels" not in info or "correct" not in info:
            raise KeyError('curriculum RL mode needs info["labels"] and info["correct"] from the env\'s step()')
        self._count(info)
        if "final_info" in info:  # same-step autoreset: the steps that ended episodes report here
            self._count(info["final_info"], np.asarray(info["_final_info"], dtype=bool))
        if not done.any():
            return
        for i in np.flatnonzero(done & self._fresh):
            self._recent.append((self._correct[i].copy(), self._labelled[i].copy()))
        self.episodes += int(done.sum())
        self._correct[done] = 0
        self._labelled[done] = 0
        if len(self._recent) == self.window:  # the heads read once: a vector env asks every copy
            heads = self.heads
            accuracy = self._running_accuracy(heads)
            if not any(math.isnan(a) for a in accuracy.values()):
                self._apply_rule(accuracy, heads)
        self._fresh |= done  # these copies start their next episode under the current heads

    def _count(self, info: Mapping[str, Any], copies: np.ndarray | None = None) -> None:
        """Add a step's correct and labelled counts per copy and head (only `copies`, a mask, where given)."""
        shape = self._correct.shape  # (copies, heads), kept in step with the heads by _forget_episodes
        counted = np.asarray(info["labels"]).reshape(shape) >= 0
        for mask in (info.get("_labels"), copies):  # a vector env's mask of the copies that reported labels
            if mask is not None:
                counted &= np.asarray(mask, dtype=bool).reshape(self._copies, 1)
        self._correct += np.asarray(info["correct"], dtype=bool).reshape(shape) & counted
        self._labelled += counted

    def _forget_episodes(self, fresh: bool = True) -> None:
        """Drop the counts of episodes in progress; `fresh=False` also ignores those episodes until they end."""
        shape = (self._copies, len(self.heads))
        self._correct = np.zeros(shape, np.int64)
        self._labelled = np.zeros(shape, np.int64)
        self._fresh = np.full(self._copies, fresh)

    def _apply(self, heads: tuple[int, ...]) -> None:
        """Set the env's heads; drop the spec copies gymnasium's wrappers cached, as the spec now names new N."""
        set_heads(self.env, heads)
        layer: Any = self
        while isinstance(layer, (gymnasium.Wrapper, VectorWrapper)):
            if hasattr(layer, "_cached_spec"):
                layer._cached_spec = None
            layer = layer.env

    # --- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The curriculum's state as plain JSON-serialisable data (its arguments stay the constructor's)."""
        return {
            "schedule": type(self).__name__,
            "heads": list(self.heads),
            "epoch": self.epoch,
            "episodes": self.episodes,
            "finished": self.finished,
            "changes": [asdict(c) | {"before": list(c.before), "heads": list(c.heads)} for c in self.changes],
            "stage_reached": [[n, e] for n, e in self.stage_reached.items()],
            "recent": [[c.tolist(), n.tolist()] for c, n in self._recent],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a `state_dict`, setting the env's heads to the saved ones.

        The whole state is checked first; a bad one raises TypeError/ValueError and changes nothing.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping from state_dict(), got {type(state).__name__}")
        missing = [k for k in STATE_KEYS if k not in state]
        if missing:
            raise ValueError(f"state is missing keys {missing}; expected the keys of state_dict(): {list(STATE_KEYS)}")
        if state["schedule"] != type(self).__name__:
            raise ValueError(f"state is from a {state['schedule']!r} curriculum, this one is {type(self).__name__!r}")
        heads = check_heads(state["heads"], "state['heads']")
        if self.max_N is not None and max(heads) > self.max_N:
            raise reject("state['heads']", state["heads"], f"N <= max_N={self.max_N}")
        epoch = check_int(state["epoch"], "state['epoch']", minimum=0)
        episodes = check_int(state["episodes"], "state['episodes']", minimum=0)
        check_bool(state["finished"], "state['finished']")
        changes = [_change(c, f"state['changes'][{i}]") for i, c in enumerate(_listed(state["changes"], "state['changes']"))]
        stage_reached = dict(
            _stage(pair, f"state['stage_reached'][{i}]") for i, pair in enumerate(_listed(state["stage_reached"], "state['stage_reached']"))
        )
        recent = [_counts(pair, f"state['recent'][{i}]", len(heads)) for i, pair in enumerate(_listed(state["recent"], "state['recent']"))]
        self._apply(heads)  # the env validates its own heads before it changes anything
        self.epoch, self.episodes, self.finished = epoch, episodes, state["finished"]
        self.changes, self.stage_reached = changes, stage_reached
        self._recent = deque(recent, maxlen=self.window)
        self._forget_episodes()


def _listed(value: Any, name: str, pair: str | None = None) -> Sequence[Any]:
    """``value`` if it is a list; with ``pair`` (what its entries are), a list of two."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise reject(name, value, "a list", TypeError)
    if pair is not None and len(value) != 2:
        raise reject(name, value, f"a pair [{pair}]")
    return value


def _stage(value: Any, name: str) -> tuple[int, int]:
    """An [N, epoch] pair of `stage_reached`: N >= 1, epoch >= 0."""
    pair = _listed(value, name, "N, epoch")
    return check_int(pair[0], f"{name}[0]"), check_int(pair[1], f"{name}[1]", minimum=0)


def _change(value: Any, name: str) -> Change:
    if not isinstance(value, Mapping) or set(value) != {"epoch", "episode", "before", "heads"}:
        raise reject(name, value, "a mapping with keys epoch, episode, before, heads")
    return Change(check_int(value["epoch"], f"{name}['epoch']", minimum=0),
                  check_int(value["episode"], f"{name}['episode']", minimum=0),
                  check_heads(value["before"], f"{name}['before']"), check_heads(value["heads"], f"{name}['heads']"))


def _counts(value: Any, name: str, heads: int) -> tuple[np.ndarray, np.ndarray]:
    """One episode's (correct, labelled) counts per head: ints, 0 <= correct <= labelled."""
    correct, labelled = (
        [check_int(n, f"{name}[{k}][{h}]", minimum=0) for h, n in enumerate(_listed(counts, f"{name}[{k}]"))]
        for k, counts in enumerate(_listed(value, name, "correct, labelled"))
    )
    if len(correct) != heads or len(labelled) != heads:
        raise reject(name, value, f"one count per head ({heads}) in each list")
    if any(c > n for c, n in zip(correct, labelled)):
        raise reject(name, value, "no more correct than labelled steps")
    return np.asarray(correct, np.int64), np.asarray(labelled, np.int64)


class Curriculum(CurriculumMixin, gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """A curriculum over a `gymnasium.Env`. Schedules made with `curriculum` return their vector twin
    (`cls.Vector`) when given a `gymnasium.vector.VectorEnv`.

    Its spec records its arguments, so ``gymnasium.make(env.spec)`` rebuilds it; a schedule keeps each
    of its constructor's arguments as an attribute of the same name for that.
    """

    def __new__(cls, env: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(env, VectorEnv):
            vector = cls.__dict__.get("Vector")
            if vector is None:
                raise TypeError(f"{cls.__name__} wraps a gymnasium.Env, got the vector env {env!r}; "
                                "define the schedule with @curricula.curriculum to wrap vector envs too")
            return vector(env, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, env: Any, **kwargs: Any) -> None:
        gymnasium.Wrapper.__init__(self, env)
        CurriculumMixin.__init__(self, env, **kwargs)
        # the constructor's arguments, read by `gymnasium.Wrapper.spec`; no `start`: the env's spec names the heads
        names = [*inspect.signature(type(self).__init__).parameters, "threshold", "max_N", "window"]
        saved = {name: getattr(self, name) for name in names if name not in ("self", "env", "start", "kwargs")}
        gymnasium.utils.RecordConstructorArgs.__init__(self, **saved)


class VectorCurriculum(CurriculumMixin, VectorWrapper):
    """A curriculum over a `gymnasium.vector.VectorEnv`: the native vector env (whose ``unwrapped`` offers
    ``heads`` and ``set_heads``) or a Gymnasium sync/async vector env of memtasks envs (all copies change
    heads together; the vector env's action spaces follow).

    RL mode reads per-copy infos: ``infos["labels"]`` and ``infos["correct"]`` shaped (num_envs, H), in
    same-step autoreset mode also ``infos["final_info"]``, and episode ends from ``terminated | truncated``. After a change, copies in mid-episode are ignored until
    their episode ends, so the running accuracy only counts episodes played under the current heads.
    """

    def __init__(self, env: Any, **kwargs: Any) -> None:
        VectorWrapper.__init__(self, env)
        CurriculumMixin.__init__(self, env, **kwargs)


def curriculum(schedule: type[CurriculumMixin]) -> type[Curriculum]:
    """Class decorator: make a schedule mixin (one that defines `next_heads`) a `Curriculum` wrapper whose
    attribute `Vector` is the same schedule as a `VectorCurriculum`."""
    name = schedule.__name__
    namespace = {"__doc__": schedule.__doc__, "__module__": schedule.__module__}
    env_wrapper = cast(type[Curriculum], type(name, (schedule, Curriculum), namespace | {"__qualname__": name}))
    env_wrapper.Vector = type(name, (schedule, VectorCurriculum), namespace | {"__qualname__": f"{name}.Vector"})
    schedule.__qualname__ = f"{name}.Schedule"
    env_wrapper.Schedule = schedule
    return env_wrapper
