"""The version of memtasks, curricula and agents: the one place it is written (pyproject.toml reads it)."""

__version__ = "0.1.0"
