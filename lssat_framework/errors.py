"""One exception hierarchy for every error a user can cause and fix.

The CLI prints the message of any :class:`LssatError` on one line (or a short block) and exits
with status 2, without a traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations


class LssatError(Exception):
    """Base class of all user-facing errors."""


class SpecError(LssatError):
    """The experiment spec is invalid. Holds every problem found, each with its dotted path."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.source}: " if self.source else ""
        count = len(self.problems)
        head = f"{where}{count} error{'s' if count != 1 else ''} in the spec"
        lines = [f"  {path}: {message}" if path else f"  {message}" for path, message in self.problems]
        return "\n".join([head, *lines])


class UnknownComponentError(LssatError):
    """No plugin registered a component of that kind and name."""


class AmbiguousComponentError(LssatError):
    """Two plugins registered the same name; the qualified name ``plugin/name`` picks one."""


class PluginError(LssatError):
    """A plugin failed to load or to register (fatal only under LSSAT_STRICT_PLUGINS=1)."""


class PluginFaultError(LssatError):
    """A plugin's component raised where the framework called it, or broke its contract (a
    descriptor's channels, a task's loss or metrics, an objective's losses). The message names
    the component, its plugin and distribution (with version), and what went wrong; the original
    exception, if any, is chained (``--debug`` shows its traceback)."""


class ComponentError(LssatError):
    """A component cannot run as configured on this machine (e.g. ``compile: true`` without a compiler)."""

    @classmethod
    def cannot_compile(cls, what: str, turn_off: str, error: BaseException) -> "ComponentError":
        """``torch.compile`` failed on this machine: one line with the compiler's first, instead
        of its traceback. ``what``: what was compiled; ``turn_off``: how to do without it."""
        reason = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
        return cls(f"{what} could not be compiled here ({reason}); install a C++ compiler (CPU) or Triton (GPU), or {turn_off}")


class DataError(LssatError):
    """A dataset is missing, laid out wrongly, or holds an unreadable file or label."""


class TrainingError(LssatError):
    """A run cannot go on (e.g. a non-finite loss); the last good checkpoint is kept."""
