"""Invariants of every schedule under any sequence of updates (hypothesis)."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import curricula

SCHEDULES = {
    "single": lambda env, cap: curricula.SingleHead(env, max_N=cap),
    "multi": lambda env, cap: curricula.MultiHead(env, grow=2, max_N=cap),
    "sliding": lambda env, cap: curricula.Sliding(env, start=[2, 3, 4], forget=2, max_N=cap),
    "fixed": lambda env, cap: curricula.Fixed(env, max_N=cap),
}


@settings(max_examples=60, deadline=None)
@given(
    schedule=st.sampled_from(sorted(SCHEDULES)),
    cap=st.one_of(st.none(), st.integers(4, 12)),
    scores=st.lists(st.floats(0.9, 1.0), max_size=25),
)
def test_update_invariants(fake_env, schedule, cap, scores):
    env = SCHEDULES[schedule](fake_env(2), cap)
    first = env.heads
    history = [first]
    for i, score in enumerate(scores):
        accuracy = {n: score for n in env.heads}
        changed = env.update(accuracy)
        assert changed == (env.heads != history[-1])
        assert changed <= (score > 0.98)  # never advances below the threshold
        assert not (changed and env.finished)
        history.append(env.heads)
        assert cap is None or max(env.heads) <= cap
    assert env.epoch == len(scores)
    assert [c.before for c in env.changes] == [h for h, after in zip(history, history[1:]) if h != after]
    assert [c.heads for c in env.changes] == [after for h, after in zip(history, history[1:]) if h != after]
    assert all(env.stage_reached[n] == min(i for i, h in enumerate(history) if n in h) for n in env.stage_reached)
    assert set(env.stage_reached) == {n for h in history for n in h}
    other = SCHEDULES[schedule](fake_env(2), cap)
    other.load_state_dict(json.loads(json.dumps(env.state_dict())))
    assert other.state_dict() == env.state_dict() and other.unwrapped.heads == env.heads
