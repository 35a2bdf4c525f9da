import os

# nothing may reach the network: timm/huggingface must fail fast instead of retrying
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
# under pytest-xdist each worker gets its share of the cores: a run's threads (train.threads'
# default) and those of the processes a test starts follow OMP_NUM_THREADS; every worker taking
# all the cores made them take turns
if os.environ.get("PYTEST_XDIST_WORKER_COUNT", "").isdigit():
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _cores // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))
# the timm model-name cache of this test session, never the user's (subprocesses inherit it)
if "LSSAT_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["LSSAT_CACHE_DIR"] = tempfile.mkdtemp(prefix="lssat-test-cache-")
    atexit.register(shutil.rmtree, os.environ["LSSAT_CACHE_DIR"], True)

import compileall  # noqa: E402
import functools  # noqa: E402
import importlib.metadata  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lssat_framework.plugins import ENTRY_POINT_GROUP, PluginManager, reset_plugin_manager  # noqa: E402
from lssat_framework.testing import tiny_spec  # noqa: E402,F401 - the fixture plugin authors use too

ROOT = Path(__file__).resolve().parents[1]

# The suite starts about 60 Python processes (the commands, torchrun's, submitit's jobs) beside its
# workers. Where PYTHONDONTWRITEBYTECODE is set (as on the machines this project's CI runs on) none
# writes bytecode, so each compiled this repository's modules again: about 10 s of the suite's
# 210 s on 2 cores (measured; docs/performance.md). Compiled once here (0.4 s; what Python does by itself
# without the variable), each process reads them; a stale file is recompiled as ever.
if sys.flags.dont_write_bytecode:
    for _folder in ("lssat_framework", "plugins", "tests"):
        compileall.compile_dir(ROOT / _folder, quiet=1)

#: the files that take longest (each starts processes or trains for real), longest first. Under
#: ``-n auto --dist loadfile`` a worker takes the next file when it is free; these start first, so
#: the many short files fill the end and the workers finish together. (xdist would order the files
#: by their number of tests: these few-test files came last, and one worker ran them alone.)
SLOWEST_FILES = ("test_shipped_data.py", "test_sweep_launchers.py", "test_two_processes.py", "test_docs.py", "test_lock.py",
                 "test_predict_memory.py", "test_untrusted_run_folders.py", "test_sweep.py", "test_prepare.py")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


#: the distributions this repository ships; the tests never see a plugin the user installed besides
SHIPPED_DISTRIBUTIONS = ("lssat-framework", "lssat-plugin-example")


@functools.cache
def shipped_entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    return tuple(
        ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.metadata["Name"] in SHIPPED_DISTRIBUTIONS
    )


def shipped_plugin_manager(*paths: Path, **options) -> PluginManager:
    """A manager with this repository's plugins and the throwaway distributions under ``paths``
    (found as pip-installed ones are), never the other plugins the user installed."""
    found = importlib.metadata.distributions(path=[str(path) for path in paths]) if paths else []
    extra = [ep for dist in found for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP)]
    return PluginManager(entry_points=[*shipped_entry_points(), *extra], **options)


def plugins_as_reported(manager: PluginManager) -> list[tuple]:
    """Each plugin as ``lssat plugins`` reports it: who it is, its state and what it registered."""
    return [(info.key, info.status, info.error, sorted((kind, len(names)) for kind, names in info.components.items())) for info in manager.report()]


#: the manager the tests start from, and its report: the shipped plugins are loaded and their
#: registry built (every timm name in it: 17 ms) once per test process, not once per test
_shipped: list = []


@pytest.fixture(autouse=True)
def _fresh_plugin_manager(monkeypatch):
    """Each test starts from the shipped plugins, with no plugin environment variables: one manager
    shared by the tests that leave it as it was; one a test changed (a plugin added, failed or
    unloaded) is made again for the next."""
    for name in ("LSSAT_DISABLE_PLUGINS", "LSSAT_STRICT_PLUGINS", "LSSAT_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    if not _shipped:
        manager = shipped_plugin_manager()
        _shipped[:] = [manager, plugins_as_reported(manager)]
    reset_plugin_manager(_shipped[0])
    yield
    reset_plugin_manager()
    if plugins_as_reported(_shipped[0]) != _shipped[1]:
        _shipped.clear()


def make_plugin_distribution(root: Path, dist_name: str, module: str, source: str, entry_name: str | None = None, version: str = "1.0", entry_points: str | None = None) -> Path:
    """Write an installed-looking distribution (module + .dist-info with an entry point) under ``root``.

    Putting ``root`` on ``sys.path`` (or PYTHONPATH) makes ``importlib.metadata`` find it exactly as
    it finds a pip-installed plugin. ``entry_points`` replaces the whole ``entry_points.txt``.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points or f"[lssat]\n{entry_name or module} = {module}\n")
    return root


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A directory on sys.path for throwaway plugin distributions."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    yield path
    for name in list(sys.modules):
        if name.startswith("lssat_plugin_"):
            del sys.modules[name]
