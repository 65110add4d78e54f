"""Environments resolved: their profile's layers, their own chain, then ``--set``."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from meshcharts.inputs.environments import EnvError, Environment
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.setvalues import SetArg
from meshcharts.resolution.resolve import (
    Resolution,
    known_keys,
    resolve,
    resolve_from,
    unknown_key_problem,
)

__all__ = ["check_profile", "profile_resolution", "resolve_environment"]

_RESOLUTIONS: dict[tuple[int, str], tuple[weakref.ref[ProfileSet], Resolution]] = {}


def profile_resolution(profiles: ProfileSet, name: str) -> Resolution:
    """``resolve(profiles, name)``, computed once per profile set and profile.

    Raises:
        ProfileError: as :func:`~meshcharts.resolution.resolve.resolve`.
    """
    key = (id(profiles), name)
    hit = _RESOLUTIONS.get(key)
    if hit is not None and hit[0]() is profiles:
        return hit[1]
    resolution = resolve(profiles, name)
    for stale in [k for k, (ref, _) in _RESOLUTIONS.items() if ref() is None]:
        del _RESOLUTIONS[stale]
    _RESOLUTIONS[key] = (weakref.ref(profiles), resolution)
    return resolution


def _check_keys(env: Environment, base: Resolution) -> None:
    known = known_keys(base.charts, base.catalog)
    for layer in env.layers:
        for key in layer.values:
            if key not in known:
                line = layer.lines.get((key,))
                shown = key if key == "mesh" else f"values.{key}"
                problem = unknown_key_problem(key, known, base.catalog, base.profile)
                raise EnvError(
                    f"{layer.source}:{line}" if line else layer.source, f"{shown}: {problem}"
                )


def check_profile(profiles: ProfileSet, env: Environment) -> None:
    """Raise EnvError, naming the file and line, if the environment's profile is unknown."""
    if env.profile not in profiles.profiles:
        known = ", ".join(profiles.names())
        raise EnvError(
            env.profile_where or str(env.path),
            f"unknown profile {env.profile!r} (known: {known})",
        )


def resolve_environment(
    profiles: ProfileSet, env: Environment, *, sets: Sequence[SetArg] = ()
) -> Resolution:
    """Resolve an environment: its profile's layers, its own chain, then ``--set``.

    Equal to ``resolve(profiles, env.profile, sets=sets, extra_layers=env.layers)`` (the
    inventory is part of the layers); the profile's own resolution is computed once per
    profile set and reused for every environment.

    Raises:
        EnvError: the profile is unknown (named at its ``file:line``), or a layer sets a
            top-level key that no compiled component reads.
        ValuesError: a malformed ``--set`` or keyed list.
    """
    check_profile(profiles, env)
    base = profile_resolution(profiles, env.profile)
    _check_keys(env, base)
    return resolve_from(base, sets=sets, extra_layers=env.layers)
