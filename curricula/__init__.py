"""Curricula: Gymnasium wrappers that change a memory task's set of heads as it is solved.

They talk to the task only through ``env.unwrapped.heads`` and ``env.unwrapped.set_heads(Ns)`` (of
every copy, for a Gymnasium sync/async vector env; `curricula.headset`), and in RL mode through the step info's ``"labels"`` and ``"correct"``. `PadActions` keeps the
action space fixed while the heads change, for RL libraries.
"""

from memtasks.version import __version__

from curricula.actions import PadActions
from curricula.base import Change, Curriculum, CurriculumMixin, VectorCurriculum, curriculum
from curricula.schedules import Fixed, MultiHead, SingleHead, Sliding

__all__ = ["Change", "Curriculum", "CurriculumMixin", "Fixed", "MultiHead", "PadActions", "SingleHead",
           "Sliding", "VectorCurriculum", "__version__", "curriculum"]
