"""meshcharts: compose Istio-style service-mesh Helm charts from Python profiles.

The data flow, one module per step::

    profiles.Profile --layers.resolve--> values.ResolvedValues (merged, with provenance)
        --assemble.assemble_chart--> assemble.ChartTree (in memory)
        --package.package_chart--> .tgz bytes --build.write_build--> charts_out/
        --golden.compare_golden--> differences from golden/

Example::

    from meshcharts import load_profiles, resolve, build_packages

    profiles = load_profiles()
    print(resolve(profiles, "minimal").values.values["pilot"])
    packages = build_packages(profiles, ["default"], version="1.0.6")
"""

from meshcharts.assemble import ChartTree, assemble_chart
from meshcharts.build import BuiltPackage, build_packages, write_build
from meshcharts.components import ChartDef, Component
from meshcharts.diff import DiffReport, diff_resolutions, format_diff
from meshcharts.environments import (
    Environment,
    load_environment,
    load_environments,
    resolve_environment,
)
from meshcharts.errors import (
    HelmNotFoundError,
    InvalidNameError,
    MeshchartsError,
    ProfileError,
    TemplateError,
    UserError,
    ValuesError,
    VersionError,
)
from meshcharts.layers import Resolution, resolve
from meshcharts.lint import Finding, lint
from meshcharts.package import package_chart
from meshcharts.plan import Plan, upgrade_plan
from meshcharts.profiles import Profile, ProfileSet, load_profiles
from meshcharts.setvalues import SetArg
from meshcharts.values import Assignment, Layer, ResolvedValues, merge_layers

__all__ = [
    "assemble_chart",
    "Assignment",
    "build_packages",
    "BuiltPackage",
    "ChartDef",
    "ChartTree",
    "Component",
    "diff_resolutions",
    "DiffReport",
    "Environment",
    "Finding",
    "format_diff",
    "HelmNotFoundError",
    "InvalidNameError",
    "Layer",
    "lint",
    "load_environment",
    "load_environments",
    "load_profiles",
    "merge_layers",
    "MeshchartsError",
    "package_chart",
    "Plan",
    "Profile",
    "ProfileError",
    "ProfileSet",
    "Resolution",
    "resolve",
    "resolve_environment",
    "ResolvedValues",
    "SetArg",
    "TemplateError",
    "upgrade_plan",
    "UserError",
    "ValuesError",
    "VersionError",
    "write_build",
]
