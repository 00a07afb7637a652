"""RL self-update from info["correct"], on an Env and a vector env, and the state_dict round trip."""

import json
import math

import numpy as np
import pytest

import curricula


def test_perfect_agent_climbs_single_head(fake_env, parity_agent, play):
    env = curricula.SingleHead(fake_env(2), window=5)
    play(env, parity_agent().act, episodes=30)
    # every 5 episodes solve a stage (the first check comes when the window is full)
    assert env.heads == (8,)
    assert [c.episode for c in env.changes] == [5, 10, 15, 20, 25, 30]
    assert env.episodes == 30 and env.epoch == 6
    assert env.stage_reached == {2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6}


def test_perfect_agent_climbs_multi_head(fake_env, parity_agent, play):
    env = curricula.MultiHead(fake_env(2), window=4, max_N=5)
    play(env, parity_agent().act, episodes=20)
    assert env.heads == (2, 3, 4, 5) and env.finished
    assert env.running_accuracy == {2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0}


def test_random_agent_never_advances(fake_env, play, random_agent):
    env = curricula.MultiHead(fake_env([2, 3]), window=20)
    play(env, random_agent(), episodes=200)
    assert env.heads == (2, 3) and env.changes == []
    assert env.epoch == 200 - 20 + 1  # one check per episode once the window is full
    assert all(0.2 < a < 0.8 for a in env.running_accuracy.values())


def test_no_check_before_window_is_full(fake_env, parity_agent, play):
    env = curricula.SingleHead(fake_env(2), window=10)
    play(env, parity_agent().act, episodes=9)
    assert env.epoch == 0 and env.heads == (2,)
    assert env.running_accuracy == {2: 1.0}


def test_running_accuracy_counts_labelled_steps_only(fake_env, play):
    env = curricula.Fixed(fake_env([2, 3]), window=3)
    always_one = lambda obs, heads, new: np.ones((1, len(heads)), int)  # noqa: E731
    play(env, always_one, episodes=3, seed=0)
    expected = []
    for episode in range(3):  # the only label is the parity of the episode's last N bits
        probe = fake_env([2, 3])
        probe.reset(seed=episode)
        expected.append([probe.bits[-n:].sum() % 2 == 1 for n in (2, 3)])
    assert env.running_accuracy == pytest.approx(dict(zip((2, 3), np.mean(expected, axis=0))))


def test_vector_env_gets_vector_wrapper(fake_vector):
    env = curricula.MultiHead(fake_vector(num_envs=3, N=2), grow=2)
    assert isinstance(env, curricula.MultiHead.Vector)
    assert isinstance(env, curricula.VectorCurriculum) and env.grow == 2
    assert env.update({2: 1.0}) is True
    assert env.unwrapped.heads == (2, 3, 4)
    assert env.action_space.shape == (3, 3)


def test_undecorated_curriculum_refuses_vector_env(fake_vector):
    class Mine(curricula.Curriculum):
        def next_heads(self, heads, room):
            return heads

    with pytest.raises(TypeError, match="Mine wraps a gymnasium.Env"):
        Mine(fake_vector())


def test_vector_perfect_agent_advances(fake_vector, parity_agent, play_vector):
    env = curricula.SingleHead(fake_vector(num_envs=4, N=2), window=8)
    play_vector(env, parity_agent(4).act, steps=150)
    assert env.heads[0] >= 6
    assert [c.heads for c in env.changes[:3]] == [(3,), (4,), (5,)]


def test_vector_random_agent_never_advances(fake_vector, play_vector, random_agent):
    env = curricula.MultiHead(fake_vector(num_envs=8, N=[2, 3]), window=32)
    play_vector(env, random_agent(8), steps=300)
    assert env.heads == (2, 3) and env.changes == [] and env.episodes > 200


def test_vector_ignores_episodes_begun_under_old_heads(fake_vector):
    """A copy in mid-episode at a change was not playing for the new heads: its episode is not counted."""
    env = curricula.SingleHead(fake_vector(num_envs=2, N=2), window=1)
    env.reset(seed=0)
    first, second = env.unwrapped.copies
    second.t = 2  # copy 1 ends two steps before copy 0
    env.step(np.zeros((2, 1), int))
    _, _, terminated, _, _ = env.step(np.array([[0], [second.bits[2:4].sum() % 2]]))
    assert terminated.tolist() == [False, True] and env.heads == (3,)
    env.step(np.zeros((2, 1), int))  # copy 1 resets under N = 3; copy 0 plays on
    _, _, terminated, _, _ = env.step(np.array([[first.bits[1:4].sum() % 2], [0]]))
    assert terminated.tolist() == [True, False] and env.episodes == 2
    assert math.isnan(env.running_accuracy[3]) and env.epoch == 1
    assert env.state_dict()["recent"] == []


def test_state_round_trip_through_json(fake_env, parity_agent, play):
    env = curricula.MultiHead(fake_env(2), window=3, grow=2)
    play(env, parity_agent().act, episodes=8)
    env.update({n: 0.5 for n in env.heads})
    state = json.loads(json.dumps(env.state_dict()))
    assert state == env.state_dict()

    other = curricula.MultiHead(fake_env(2), window=3, grow=2)
    other.load_state_dict(state)
    assert other.unwrapped.heads == env.unwrapped.heads and other.action_space == env.action_space
    assert (other.epoch, other.episodes, other.finished) == (env.epoch, env.episodes, env.finished)
    assert other.changes == env.changes and other.stage_reached == env.stage_reached
    assert other.running_accuracy == env.running_accuracy
    assert other.state_dict() == env.state_dict()
    # both go on identically
    play(env, parity_agent().act, episodes=4, seed=50)
    play(other, parity_agent().act, episodes=4, seed=50)
    assert other.state_dict() == env.state_dict()


def test_state_moves_between_env_and_vector(fake_env, fake_vector):
    env = curricula.Sliding(fake_env([2, 3]))
    env.update({2: 1.0, 3: 1.0})
    vector = curricula.Sliding(fake_vector(N=[2, 3]))
    vector.load_state_dict(env.state_dict())
    assert vector.unwrapped.heads == (3, 4) and vector.changes == env.changes


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda s: s.pop("heads"), ValueError, r"missing keys \['heads'\]"),
        (lambda s: s.update(schedule="SingleHead"), ValueError, "from a 'SingleHead' curriculum"),
        (lambda s: s.update(heads=[]), ValueError, "heads"),
        (lambda s: s.update(recent=[[[1], [1]]]), ValueError, "recent"),
        (lambda s: s.update(epoch=-1), ValueError, "epoch"),
    ],
)
def test_bad_state(fake_env, change, error, words):
    env = curricula.MultiHead(fake_env([2, 3]), window=2)
    state = env.state_dict()
    state["recent"] = [[[1, 1], [1, 1]]]
    change(state)
    with pytest.raises(error, match=words):
        env.load_state_dict(state)
    assert env.heads == (2, 3)


def test_state_must_be_a_mapping(fake_env):
    with pytest.raises(TypeError, match="state must be a mapping"):
        curricula.Fixed(fake_env(2)).load_state_dict([1, 2])
