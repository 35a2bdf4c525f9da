"""Commands that plugins add through their ``register_commands`` hook, each guarded so that one
plugin's clash or failure costs only that plugin's commands."""

from __future__ import annotations

import argparse


class GuardedSubparsers:
    """The sub-parser action as one plugin's ``register_commands`` sees it.

    A command name that exists already is skipped with a warning (argparse would raise, and every
    command would fail); the hook gets a detached parser, so the rest of it still runs.
    """

    def __init__(self, subparsers, owners: dict[str, str], info, manager):
        self._subparsers, self._owners, self._info, self._manager = subparsers, owners, info, manager
        self.added: list[str] = []

    def add_parser(self, name, **kwargs):
        names = [name, *kwargs.get("aliases", ())]
        taken = next((n for n in names if n in self._subparsers.choices), None)
        if taken is not None:
            self._manager.warn(f"{self._info.label} adds the command '{taken}', which {self._owners[taken]} has already; the plugin's command was skipped")
            kwargs.pop("aliases", None)
            kwargs.pop("help", None)
            return argparse.ArgumentParser(prog=f"lssat {name}", **kwargs)
        parser = self._subparsers.add_parser(name, **kwargs)
        self.added += names
        self._owners.update(dict.fromkeys(names, self._info.label))
        return parser

    def __getattr__(self, attribute):
        return getattr(self._subparsers, attribute)


def add_plugin_commands(sub, manager) -> None:
    """Each plugin's ``register_commands``, in load order; a plugin whose hook raises is skipped,
    and the commands it added before raising are removed."""
    owners = dict.fromkeys(sub.choices, "lssat itself")
    for info in manager.active_plugins():
        guarded = GuardedSubparsers(sub, owners, info, manager)
        if not manager.call_hook(info, "register_commands", guarded):
            for name in guarded.added:  # argparse has no public way to drop a sub-command
                sub._name_parser_map.pop(name, None)
            sub._choices_actions[:] = [a for a in sub._choices_actions if a.dest not in guarded.added]
