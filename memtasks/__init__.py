"""Memory tasks (N-parity, N-DMS) as Gymnasium environments.

Importing the package registers "memtasks/Parity-v0" and "memtasks/DMS-v0" (with a native
vector env for `gymnasium.make_vec`).
"""

import gymnasium

from memtasks.batch import Batch
from memtasks.env import MemoryTaskEnv
from memtasks.tasks import TASKS, label_stream
from memtasks.version import __version__

__all__ = ["Batch", "MemoryTaskEnv", "TASKS", "__version__", "label_stream"]

for _name, _task in (("Parity", "parity"), ("DMS", "dms")):
    if f"memtasks/{_name}-v0" not in gymnasium.registry:
        gymnasium.register(id=f"memtasks/{_name}-v0", entry_point="memtasks.env:MemoryTaskEnv",
                           vector_entry_point="memtasks.vector:MemoryTaskVectorEnv", kwargs={"task": _task})
