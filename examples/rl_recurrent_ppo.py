"""Train sb3-contrib's RecurrentPPO (an LSTM policy) on a memory task by reinforcement learning.

Each step the policy sees one bit and predicts, for every head N, the task's label over the last N
bits; the reward is the fraction of heads it got right, so it must learn to remember. Actions never
change the bits to come, hence gamma = 0: each prediction is judged by its own reward.

The curriculum advances by itself: it counts ``info["correct"]`` over the last ``--window`` episodes
and adds a head (multi) or moves to the next N (single) once the accuracy passes ``--threshold``.
Stable-Baselines3 fixes the policy's action space at the start, so ``curricula.PadActions`` offers one
prediction slot per head the curriculum can reach (up to ``--max-N``); slot k always predicts the k-th
head. Each of the ``--envs`` copies runs its own curriculum. Needs the ``rl`` extra
(``pip install -e ".[rl]"``). Defaults train in under a minute on one CPU core.

    python examples/rl_recurrent_ppo.py                              # DMS, heads 2 -> 2, 3
    python examples/rl_recurrent_ppo.py --task parity --max-N 2 --labels final
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.vec_env import DummyVecEnv

import curricula
import memtasks  # noqa: F401  (registers the envs)

ENV_IDS = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}
CURRICULA = {"multi": curricula.MultiHead, "single": curricula.SingleHead, "none": curricula.Fixed}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=sorted(ENV_IDS), default="dms", help="the memory task (default: %(default)s)")
    p.add_argument("--N", type=int, default=2, help="the starting N (default: %(default)s)")
    p.add_argument("--labels", choices=["every_step", "final"], default="every_step",
                   help="a label at every step or at the last one only (default: %(default)s)")
    p.add_argument("--curriculum", choices=sorted(CURRICULA), default="multi",
                   help="multi: add heads; single: N -> N + 1; none: fixed heads (default: %(default)s)")
    p.add_argument("--max-N", type=int, default=3, help="the curriculum stops at this N (default: %(default)s)")
    p.add_argument("--threshold", type=float, default=0.95,
                   help="accuracy of the sampled actions to pass to advance (default: %(default)s)")
    p.add_argument("--window", type=int, default=100,
                   help="episodes per copy the curriculum's accuracy is taken over (default: %(default)s)")
    p.add_argument("--timesteps", type=int, default=30_000, help="environment steps in all (default: %(default)s)")
    p.add_argument("--envs", type=int, default=8, help="env copies stepped together (default: %(default)s)")
    p.add_argument("--n-steps", type=int, default=64, help="steps per copy per rollout (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="PPO minibatch size (default: %(default)s)")
    p.add_argument("--n-epochs", type=int, default=4, help="PPO epochs per rollout (default: %(default)s)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--lstm", type=int, default=32, help="LSTM units of the policy (default: %(default)s)")
    p.add_argument("--eval-episodes", type=int, default=100,
                   help="greedy episodes the accuracy is measured on (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    args = p.parse_args(argv)
    if args.max_N < args.N:
        p.error(f"--max-N must be >= --N ({args.N}), got {args.max_N}")
    return args


def slots(args: argparse.Namespace) -> int:
    """The most heads the curriculum can reach: the size of the padded action space."""
    return args.max_N - args.N + 1 if args.curriculum == "multi" else 1


def make_env(args: argparse.Namespace) -> gym.Env:
    """One copy: the task, its curriculum, and the fixed action space the policy is built for."""
    env = gym.make(ENV_IDS[args.task], N=args.N, labels=args.labels)
    schedule = CURRICULA[args.curriculum](env, threshold=args.threshold, max_N=args.max_N, window=args.window)
    return curricula.PadActions(schedule, size=slots(args))


def evaluate(model: RecurrentPPO, args: argparse.Namespace, heads: tuple[int, ...]) -> dict[int, float]:
    """Accuracy per head of the greedy policy on `args.eval_episodes` fresh episodes with heads `heads`."""
    env = curricula.PadActions(gym.make(ENV_IDS[args.task], N=list(heads), labels=args.labels), size=slots(args))
    correct = np.zeros(len(heads))
    labelled = np.zeros(len(heads))
    obs, _ = env.reset(seed=args.seed + args.envs)  # a stream none of the training copies sees
    for _ in range(args.eval_episodes):
        state, start, done = None, np.ones(1, dtype=bool), False
        while not done:
            action, state = model.predict(obs[None], state=state, episode_start=start, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action[0])
            start[:] = False
            done = terminated or truncated
            correct += info["correct"]
            labelled += info["labels"] >= 0
        obs, _ = env.reset()
    return {n: float(c / m) for n, c, m in zip(heads, correct, labelled)}


def show(accuracy: dict[int, float]) -> str:
    per_head = ", ".join(f"N={n}: {a:.3f}" for n, a in accuracy.items())
    return f"{per_head}; mean accuracy {np.mean(list(accuracy.values())):.3f}"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    envs = DummyVecEnv([lambda: make_env(args)] * args.envs)
    model = RecurrentPPO(
        "MlpLstmPolicy", envs, learning_rate=args.lr, n_steps=args.n_steps, batch_size=args.batch_size,
        n_epochs=args.n_epochs, gamma=0.0, policy_kwargs=dict(lstm_hidden_size=args.lstm, net_arch=[args.lstm]),
        seed=args.seed, device=args.device,
    )
    start_heads = envs.get_attr("heads")[0]
    print(f"{args.task} {args.labels}, {args.curriculum} curriculum from N={args.N} to {args.max_N}, "
          f"{args.envs} copies; chance is 0.5")
    print(f"Before training ({start_heads}): {show(evaluate(model, args, start_heads))}")

    began = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - began

    reached = Counter(envs.get_attr("heads"))
    firsts = sorted(c.episode for changes in envs.get_attr("changes") for c in changes[:1])
    print(f"Trained {model.num_timesteps} steps in {seconds:.1f} s; heads reached by the copies: "
          + ", ".join(f"{heads} x{count}" for heads, count in reached.most_common())
          + (f" (first change after {firsts[0]} episodes of a copy)" if firsts else ""))
    for heads in sorted(reached, key=lambda h: (len(h), max(h))):
        print(f"After training ({heads}): {show(evaluate(model, args, heads))}")


if __name__ == "__main__":
    main()
