"""Training, evaluation and prediction through accelerate.

One concern per module: :mod:`.loop` (a run, epoch by epoch), :mod:`.optim` (optimiser, schedule,
updates per epoch), :mod:`.checkpoints` (atomic, resumable), :mod:`.augment`, :mod:`.evaluation`
(metrics, bootstrap interval, chance), :mod:`.resampling` (bootstrap draws and a metric on each,
shared with a sweep's answers), :mod:`.pictures` (reconstruction grids), :mod:`.rundir`
(the run directory's files), :mod:`.trained` (``lssat eval``; the weights ``lssat predict`` loads) and :mod:`.cross`
(a checkpoint on several test sets: the cross-dataset table and ROC curves).
"""

from .accelerator import leave_process_group
from .augment import augment
from .checkpoints import find_checkpoint
from .loop import train
from .trained import evaluate_checkpoint

__all__ = ["augment", "evaluate_checkpoint", "find_checkpoint", "leave_process_group", "train"]
