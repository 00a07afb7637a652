"""The curricula on the real memtasks envs: spec, action space, RL self-update, native vector env."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import curricula
import memtasks  # noqa: F401  (registers the envs)

if "memtasks/Parity-v0" not in gymnasium.registry:  # until the tasks branch is merged
    pytest.skip("the memtasks envs are not in this checkout", allow_module_level=True)


def make_vec(num_envs, **kwargs):
    return gymnasium.make_vec("memtasks/Parity-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def test_change_updates_spec_and_action_space():
    env = curricula.MultiHead(gymnasium.make("memtasks/Parity-v0", N=2), grow=2)
    assert env.spec.kwargs["N"] in (2, (2,), [2])  # the wrappers' cached spec copies are read here
    assert env.update({2: 0.99}) is True
    assert tuple(env.unwrapped.spec.kwargs["N"]) == (2, 3, 4) == tuple(env.spec.kwargs["N"])
    assert env.action_space == gymnasium.spaces.MultiDiscrete([2, 2, 2])
    assert gymnasium.make(env.unwrapped.spec).unwrapped.heads == (2, 3, 4)


def test_start_and_load_state_update_spec():
    env = curricula.Sliding(gymnasium.make("memtasks/DMS-v0", N=9), start=[2, 3, 4])
    assert tuple(env.unwrapped.spec.kwargs["N"]) == (2, 3, 4)
    state = env.state_dict()
    env.update({2: 1.0, 3: 1.0, 4: 1.0})
    env.load_state_dict(state)
    assert env.unwrapped.heads == (2, 3, 4) == tuple(env.unwrapped.spec.kwargs["N"])


def test_env_validation_applies_to_start():
    with pytest.raises(ValueError, match="N"):  # DMS needs N >= 2: the env's own check
        curricula.SingleHead(gymnasium.make("memtasks/DMS-v0", N=2), start=1)


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")
def test_wrapped_env_passes_check_env():
    check_env(curricula.MultiHead(gymnasium.make("memtasks/Parity-v0", N=[2, 3]).unwrapped), skip_render_check=True)


def test_spec_rebuilds_the_curriculum_at_its_current_heads():
    env = curricula.Sliding(gymnasium.make("memtasks/Parity-v0", N=[2, 3]), forget=2, threshold=0.9, max_N=9)
    env.update({2: 1.0, 3: 1.0})
    again = gymnasium.make(env.spec)
    assert isinstance(again, curricula.Sliding) and again.unwrapped.heads == (4, 5)
    assert (again.forget, again.threshold, again.max_N, again.window) == (2, 0.9, 9, 100)


def test_perfect_agent_climbs_real_parity(parity_agent, play):
    env = curricula.SingleHead(gymnasium.make("memtasks/Parity-v0", N=2), window=5)
    play(env, parity_agent().act, episodes=25)
    assert env.heads == (7,) and [c.episode for c in env.changes] == [5, 10, 15, 20, 25]


def test_continuous_time_is_scored_per_original_bit(parity_agent, play):
    """With repeat=3 a player reading every third bit climbs as fast as on plain parity; one
    reading every step (N repeated bits, not N bits) never advances."""
    env = curricula.SingleHead(gymnasium.make("memtasks/Parity-v0", N=2, repeat=3), window=5)
    agent = parity_agent()

    def act(obs, heads, new_episode):
        agent.act(obs, heads, new_episode)                 # keeps the stream seen so far
        bits = agent.seen[0][2::3]                         # each bit's last copy
        return np.array([[sum(bits[-n:]) % 2 for n in heads]])

    play(env, act, episodes=25)
    assert env.heads == (7,) and [c.episode for c in env.changes] == [5, 10, 15, 20, 25]
    naive = curricula.SingleHead(gymnasium.make("memtasks/Parity-v0", N=2, p=0.5, repeat=3),
                                 window=20)
    play(naive, parity_agent().act, episodes=60)
    assert naive.changes == [] and 0.2 < naive.running_accuracy[2] < 0.8


def test_random_agent_stays_on_real_parity(random_agent, play):
    env = curricula.MultiHead(gymnasium.make("memtasks/Parity-v0", N=2), window=20)
    play(env, random_agent(), episodes=150)
    assert env.heads == (2,) and env.changes == [] and env.epoch == 131


def test_native_vector_env(parity_agent, play_vector, random_agent):
    env = curricula.MultiHead(make_vec(8, N=2), window=16)
    assert isinstance(env, curricula.MultiHead.Vector)
    play_vector(env, parity_agent(8).act, steps=120)
    assert env.heads[:4] == (2, 3, 4, 5)
    assert tuple(env.unwrapped.spec.kwargs["N"]) == env.heads
    assert env.action_space.shape == (8, len(env.heads))

    env = curricula.MultiHead(make_vec(8, N=2), window=16)
    play_vector(env, random_agent(8), steps=200)
    assert env.heads == (2,) and env.episodes > 100


def test_vector_state_round_trip():
    env = curricula.SingleHead(make_vec(4, N=3), max_N=4)
    env.update({3: 1.0})
    env.update({4: 1.0})
    other = curricula.SingleHead(make_vec(4, N=3), max_N=4)
    other.load_state_dict(env.state_dict())
    assert other.unwrapped.heads == (4,) and other.finished and other.state_dict() == env.state_dict()
    assert other.action_space.shape == (4, 1)


VECTOR_MODES = [
    ("sync", "NextStep"), ("sync", "SameStep"), ("async", "NextStep"), ("async", "SameStep"),
    ("vector_entry_point", "NextStep"), ("vector_entry_point", "SameStep"),
]


def make_vec_mode(mode, autoreset, num_envs=4, **kwargs):
    """The Parity task vectorized in `mode`, with per-copy seeding (copy i seeded seed + i) in every mode."""
    if mode == "vector_entry_point":
        kwargs |= dict(autoreset_mode=autoreset, seeding="per_copy")
    else:
        kwargs |= dict(vector_kwargs={"autoreset_mode": autoreset})
    return gymnasium.make_vec("memtasks/Parity-v0", num_envs=num_envs, vectorization_mode=mode, **kwargs)


@pytest.mark.parametrize("mode, autoreset", VECTOR_MODES)
def test_curriculum_over_every_vector_mode_advances(mode, autoreset, parity_agent, play_vector):
    """A perfect player climbs the multi-head curriculum over Gymnasium's sync/async vector envs as over the
    native one; the vector env's action spaces and spec follow the heads."""
    env = curricula.MultiHead(make_vec_mode(mode, autoreset, N=2), window=8, max_N=4)
    assert isinstance(env, curricula.MultiHead.Vector)
    play_vector(env, parity_agent(4).act, steps=150)
    assert env.heads == (2, 3, 4) and env.finished
    assert [c.heads for c in env.changes] == [(2, 3), (2, 3, 4)]
    assert env.single_action_space == gymnasium.spaces.MultiDiscrete([2, 2, 2])
    assert env.action_space.shape == (4, 3)
    assert tuple(env.unwrapped.spec.kwargs["N"]) == (2, 3, 4)
    assert gymnasium.make_vec(env.unwrapped.spec).single_action_space == env.single_action_space
    env.close()


def test_curriculum_over_sync_equals_native_per_copy(random_agent, play_vector):
    """Same seed, same streams (per-copy seeding), same player: the same changes at the same episodes."""
    runs = []
    for mode in ("sync", "vector_entry_point"):
        env = curricula.MultiHead(make_vec_mode(mode, "NextStep", N=2, labels="every_step"), window=6, threshold=0.5)
        play_vector(env, random_agent(4, seed=3), steps=300, seed=11)
        runs.append(env.state_dict())
    assert runs[0] == runs[1] and len(runs[0]["changes"]) > 1


def test_sync_copies_with_different_heads_are_refused():
    envs = gymnasium.vector.SyncVectorEnv([lambda n=n: gymnasium.make("memtasks/Parity-v0", N=n) for n in (2, 3)])
    with pytest.raises(ValueError, match=r"expected one head set for all copies; they have \[\(2,\), \(3,\)\]"):
        curricula.SingleHead(envs)
