"""``lssat predict``: a finished run's answers for new files.

:mod:`.loaded` (the run's model, task and what its dataset recorded), :mod:`.inputs` (the files
given, folders searched), :mod:`.answers` (one file's faces scored frame by frame, and its answer
per video), :mod:`.job` (every input, the progress bar, the exit status), :mod:`.outputs` (the CSVs
and JSON, written whole or not at all), :mod:`.picture` (a video's PNG) and :mod:`.whole_images`
(``--checkpoint``: whole images scored without finding faces, as before). Faces are found by a
registered face reader (the kind ``face_reader``). Imports ``train/`` and the layers below it.
"""

from .job import PredictOptions, predict_files
from .whole_images import predict_whole_images

__all__ = ["PredictOptions", "predict_files", "predict_whole_images"]
