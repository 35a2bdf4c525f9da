"""Files a run or a sweep writes, kept where the user pointed: writing, renaming and deleting
only inside the chosen folder, never through a symlink (:mod:`.safe`), and one writer per run
folder (:mod:`.lock`). Imports only ``..errors``."""
