"""Suite-wide settings: one torch thread, so tests do not oversubscribe a small CI machine."""

import torch

torch.set_num_threads(1)
