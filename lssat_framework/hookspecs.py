"""The hooks a plugin implements. Each hook receives a ``register`` callback.

A plugin module (or object) implements any subset of these functions, decorated with
``lssat_framework.hookimpl``, and is declared in its ``pyproject.toml``::

    [project.entry-points.lssat]
    myplugin = "lssat_plugin_myplugin"

Every ``register`` callback has the same signature::

    register(name, factory, params_model=None, description="")

``factory(**params)`` builds the component: a callable, or a lazy reference
``"package.module:attr"`` (``lazy("package.module:attr", **bound)`` to bind keyword arguments)
that is imported only when the component is first built. ``params_model`` is a pydantic model
that validates the ``params`` mapping of the spec before ``factory`` is called; its fields are the
factory's keyword arguments. :func:`~lssat_framework.plugins.registration.check_registration` compares them with a callable
factory's signature when the plugin registers, and with a lazy one's when it is resolved.
With a lazy factory, a params model in a module that imports pydantic only and a description,
``lssat validate``, ``lssat list`` and ``lssat plugins`` never import the model code (nor torch).
Names only need to be unique within a plugin: when two plugins register the same name, both stay
reachable as ``plugin/name`` (``distribution:entry/name`` when two distributions use the same
entry-point name).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("lssat")
hookimpl = pluggy.HookimplMarker("lssat")


@hookspec
def register_backbones(register):
    """Register backbones: factories returning a :class:`lssat_framework.interfaces.Backbone`.

    The backbone is shared by the task path (``forward_pooled``) and the masked path of the
    SSL objective (``forward_masked``).
    """


@hookspec
def register_descriptors(register):
    """Register texture descriptors: factories returning a :class:`~lssat_framework.interfaces.Descriptor`.

    A descriptor is a parameter-free ``torch.nn.Module`` that maps an RGB batch ``B×3×H×W`` in
    [0, 1] to a modality ``B×C×H×W`` in [0, 1]. Descriptors are the modalities the SSL objective
    masks and reconstructs, and the task head may classify.
    """


@hookspec
def register_ssl_objectives(register):
    """Register self-supervised objectives: factories returning an :class:`~lssat_framework.interfaces.SSLObjective`."""


@hookspec
def register_tasks(register):
    """Register primary tasks: factories returning a :class:`~lssat_framework.interfaces.Task`.

    A task owns its head size, its loss and its metrics.
    """


@hookspec
def register_datasets(register):
    """Register datasets: factories returning a :class:`~lssat_framework.interfaces.DatasetSource`."""


@hookspec
def register_face_detectors(register):
    """Register face detectors for frame preparation (``lssat prepare --detector NAME``).

    ``factory(**params)`` returns a callable that takes one RGB frame (``H×W×3`` uint8 numpy
    array) and returns the faces found as ``(top, left, height, width)`` boxes in its pixels. It
    is built once in each worker process, so it need not be picklable; the factory must be (a
    module-level class or function). Detectors are components of the kind ``face_detector``: a
    name two plugins register is an ambiguity error, reached by its qualified name.
    """


@hookspec
def register_face_landmarkers(register):
    """Register facial landmarkers for aligned frame preparation (``lssat prepare --align
    --landmarker NAME``), components of the kind ``face_landmarker``.

    ``factory(**params)`` returns a callable that takes one RGB frame (``H×W×3`` uint8 numpy
    array) and one face box ``(top, left, height, width)`` and returns the face's five key points
    as a ``5×2`` float array of ``(x, y)`` in the frame's pixels, in the order of the ArcFace
    template: the eye on the image's left, the other eye, the nose tip, the mouth corner on the
    image's left, the other corner. Built once per worker process, as detectors are.
    """


@hookspec
def register_face_readers(register):
    """Register face readers for ``lssat predict``, components of the kind ``face_reader``.

    ``factory(**params)`` returns a :class:`~lssat_framework.interfaces.FaceReader`: given a video
    or photo file and the preparation settings a dataset recorded, it yields the sampled frames'
    face crops as ``lssat prepare`` writes them, with each frame's index, time and face box;
    several faces give one track each. ``lssat predict --reader NAME`` picks one; with a single
    one installed, it is used.
    """


@hookspec
def register_commands(subparsers):
    """Add sub-commands to the ``lssat`` CLI.

    ``subparsers`` is the ``argparse`` sub-parser action of ``lssat``; call
    ``subparsers.add_parser(...)`` and set ``handler=callable(args)`` as a default on the parser.
    """
