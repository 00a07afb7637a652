"""Small stand-ins for the memtasks envs: the head-set interface, spaces and the step info, nothing more."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv


class FakeParity(gymnasium.Env):
    """N-parity on a stream of fair bits, labelled at the last step only; episodes of max(N) + 2 steps."""

    observation_space = spaces.Box(0, 1, (1,), np.float32)

    def __init__(self, N=2):
        self.set_heads(N)

    def set_heads(self, Ns):
        self.heads = (Ns,) if isinstance(Ns, int) else tuple(Ns)
        self.action_space = spaces.MultiDiscrete([2] * len(self.heads))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.bits = self.np_random.integers(0, 2, max(self.heads) + 2)
        self.t = 0
        return np.array([self.bits[0]], np.float32), {}

    def step(self, action):
        last = self.t == len(self.bits) - 1
        truth = np.array([self.bits[self.t - n + 1 : self.t + 1].sum() % 2 for n in self.heads])
        labels = np.where(last, truth, -1)
        correct = (np.asarray(action) == truth) & (labels >= 0)
        self.t += 1
        obs = np.zeros(1, np.float32) if last else np.array([self.bits[self.t]], np.float32)
        reward = float(correct.mean()) if last else 0.0
        return obs, reward, bool(last), False, {"labels": labels, "correct": correct}


class FakeVector(VectorEnv):
    """`num_envs` FakeParity copies stepped together, with next-step autoreset (the reset step has no labels)."""

    def __init__(self, num_envs=4, N=2):
        self.num_envs = num_envs
        self.copies = [FakeParity(N) for _ in range(num_envs)]
        self.single_observation_space = FakeParity.observation_space
        self.observation_space = spaces.Box(0, 1, (num_envs, 1), np.float32)
        self.set_heads(N)

    @property
    def heads(self):
        return self.copies[0].heads

    def set_heads(self, Ns):
        for copy in self.copies:
            copy.set_heads(Ns)
        self.single_action_space = self.copies[0].action_space
        self.action_space = spaces.MultiDiscrete(np.full((self.num_envs, len(self.heads)), 2))

    def reset(self, *, seed=None, options=None):
        seeds = [None] * self.num_envs if seed is None else [seed + i for i in range(self.num_envs)]
        obs = [copy.reset(seed=s)[0] for copy, s in zip(self.copies, seeds)]
        self.done = np.zeros(self.num_envs, bool)
        return np.stack(obs), {}

    def step(self, actions):
        obs, labels, correct = [], [], []
        dones = np.zeros(self.num_envs, bool)
        for i, copy in enumerate(self.copies):
            if self.done[i]:
                o = copy.reset()[0]
                info = {"labels": np.full(len(self.heads), -1), "correct": np.zeros(len(self.heads), bool)}
            else:
                o, _, dones[i], _, info = copy.step(actions[i])
            obs.append(o)
            labels.append(info["labels"])
            correct.append(info["correct"])
        self.done = dones
        infos = {"labels": np.stack(labels), "correct": np.stack(correct)}
        return np.stack(obs), np.zeros(self.num_envs), dones, np.zeros(self.num_envs, bool), infos


class ParityAgent:
    """Predicts every head's parity from the bits it has seen: a perfect player of (fake or real) parity."""

    def __init__(self, num_envs=1):
        self.seen = [[] for _ in range(num_envs)]

    def act(self, obs, heads, new_episode):
        obs = np.asarray(obs).reshape(len(self.seen), -1)
        actions = []
        for i, (seen, starts) in enumerate(zip(self.seen, np.broadcast_to(new_episode, len(self.seen)))):
            if starts:
                seen.clear()
            seen.append(int(obs[i, 0]))
            actions.append([sum(seen[-n:]) % 2 for n in heads])
        return np.array(actions)


def play_episodes(env, agent_act, episodes, seed=0):
    """Play `episodes` episodes on a single-env curriculum; `agent_act(obs, heads, new_episode)` → action."""
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        new, done = True, False
        while not done:
            obs, _, terminated, truncated, _ = env.step(agent_act(obs, env.unwrapped.heads, new)[0])
            new, done = False, terminated or truncated


def play_vector_steps(env, agent_act, steps, seed=0):
    """Step a vector curriculum `steps` times; copies start a new episode the step after they end (next-step
    autoreset) or, in same-step autoreset mode, at the step they end."""
    same_step = env.metadata.get("autoreset_mode") == AutoresetMode.SAME_STEP
    obs, _ = env.reset(seed=seed)
    new = np.ones(env.num_envs, bool)
    ended = np.zeros(env.num_envs, bool)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(agent_act(obs, env.heads, new))
        new, ended = (terminated | truncated if same_step else ended), terminated | truncated


def random_player(num_envs=1, seed=0):
    rng = np.random.default_rng(seed)
    return lambda obs, heads, new: rng.integers(0, 2, (num_envs, len(heads)))



@pytest.fixture(scope="session")
def fake_env():
    return FakeParity


@pytest.fixture(scope="session")
def fake_vector():
    return FakeVector


@pytest.fixture(scope="session")
def parity_agent():
    return ParityAgent


@pytest.fixture(scope="session")
def play():
    return play_episodes


@pytest.fixture(scope="session")
def play_vector():
    return play_vector_steps


@pytest.fixture(scope="session")
def random_agent():
    return random_player
