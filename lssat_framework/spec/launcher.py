"""``launcher:``: where ``lssat sweep`` runs the variants. Its strings are written into a job
script, so each is checked to be one line, and ``sbatch:`` options the launcher sets itself are
refused."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

#: what may not reach the job script: a newline there starts a shell command of its own
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ONE_LINE_RULE = "contains a newline or control character; launcher settings are written into the job script, one line each: write it on one line"
SBATCH_OPTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: options the launcher sets itself: the job's logs and working folder stay in the sweep folder
SBATCH_OWN = {"output", "error", "input", "chdir", "job-name", "job_name", "open-mode", "open_mode", "wrap", "array"}


def _sbatch_problem(key: str, value: Any) -> str | None:
    """What is wrong with one ``launcher.sbatch`` entry (None: nothing)."""
    if not SBATCH_OPTION.fullmatch(key):
        return f"{key!r} is not an sbatch option name: letters, digits, '-' and '_' only (e.g. mail-type)"
    if key.lower() in SBATCH_OWN:
        return f"'{key}' is set by the launcher itself (the job's logs, working folder, name and array stay those of the sweep folder); remove it"
    if not isinstance(value, (str, int, float, bool)):
        return "an sbatch option's value is a string, a number or true (a flag without a value)"
    return ONE_LINE_RULE if isinstance(value, str) and CONTROL_CHARACTER.search(value) else None


class LauncherSpec(BaseModel):
    """Where ``lssat sweep`` runs the variants: the executor settings of ``--launcher local|slurm``.

    Ignored by a single run and by ``--launcher inline``.
    """

    model_config = ConfigDict(extra="forbid")

    #: variants running at once (local: processes on this machine; slurm: the job array's ``%N``)
    parallel: int = Field(1, ge=1)
    #: Slurm partition (``--partition``)
    partition: str | None = None
    #: Slurm account (``--account``)
    account: str | None = None
    #: Slurm quality of service (``--qos``)
    qos: str | None = None
    #: Slurm node feature constraint (``--constraint``)
    constraint: str | None = None
    #: nodes per variant
    nodes: int = Field(1, ge=1)
    #: GPUs per node; one process per GPU (0: CPU processes, see tasks_per_node)
    gpus_per_node: int = Field(0, ge=0)
    #: processes per node; null: one per GPU, one on a CPU node (e.g. 2: two data-parallel CPU processes, gloo)
    tasks_per_node: int | None = Field(None, ge=1)
    #: CPU cores per process
    cpus_per_task: int = Field(4, ge=1)
    #: memory per node in GB; null: the cluster's default
    mem_gb: float | None = Field(None, gt=0)
    #: time limit per job in minutes; a variant that reaches it is checkpointed and requeued
    timeout_min: int = Field(60, ge=1)
    #: any other sbatch option, e.g. {mail-type: END}; keys are option names (letters, digits, '-', '_'), values one-line strings, numbers or booleans
    sbatch: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_process_per_gpu(self) -> "LauncherSpec":
        if self.gpus_per_node and self.tasks_per_node not in (None, self.gpus_per_node):
            raise PydanticCustomError(
                "tasks_per_gpu",
                "tasks_per_node: {tasks} with gpus_per_node: {gpus}; each process drives one GPU, so with GPUs tasks_per_node "
                "is gpus_per_node (leave it out)", {"tasks": self.tasks_per_node, "gpus": self.gpus_per_node})
        return self

    @property
    def processes_per_node(self) -> int:
        """The processes a job starts on each node: ``tasks_per_node``, else one per GPU, else one."""
        return self.tasks_per_node or max(1, self.gpus_per_node)

    @field_validator("partition", "account", "qos", "constraint")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and CONTROL_CHARACTER.search(value):
            raise PydanticCustomError("control_character", ONE_LINE_RULE)
        return value

    @field_validator("sbatch")
    @classmethod
    def _sbatch_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        errors = [InitErrorDetails(type=PydanticCustomError("sbatch_option", problem), loc=(key if key.isprintable() else repr(key),),
                                    input=value if SBATCH_OPTION.fullmatch(key) else key)
                  for key, value in options.items() if (problem := _sbatch_problem(key, value))]
        if errors:
            raise ValidationError.from_exception_data("sbatch", errors)
        return options


