"""Helpers for Pulumi dynamic providers, which run pickled in a provider process of their own."""

from __future__ import annotations


def pickled_by_value(obj):
    """Pulumi pickles a dynamic provider (dill) into the state, and its provider process cannot
    import this repository; dill embeds a class, its methods and the functions they call only if
    they belong to __main__. So mark them, and import what they need inside their bodies."""
    members = [obj, *(f for f in vars(obj).values() if callable(f))] if isinstance(obj, type) else [obj]
    for member in members:
        member.__module__ = "__main__"
    return obj
