"""The plugin registry: finding plugins (:mod:`.loading`, :mod:`.info`), the components they
register (:mod:`.manager`, :mod:`.components`, :mod:`.lazy` references imported when first
built, :mod:`.declared` what a component says of itself) and the check of a component against
its contract by a dry forward (:mod:`.contracts`).

It may import the plugin API at the top of the package (``..hookspecs``, ``..interfaces``,
``..images``, ``..errors``); never the spec, the model, training, sweeps or the CLI.
"""

from .loading import ENTRY_POINT_GROUP, PluginLoader
from .manager import KINDS, PluginManager, get_plugin_manager, reset_plugin_manager

__all__ = ["ENTRY_POINT_GROUP", "KINDS", "PluginLoader", "PluginManager", "get_plugin_manager", "reset_plugin_manager"]
