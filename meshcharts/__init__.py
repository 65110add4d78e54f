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
from meshcharts.package import package_chart
from meshcharts.profiles import Profile, ProfileSet, load_profiles
from meshcharts.setvalues import SetArg
from meshcharts.values import Assignment, Layer, ResolvedValues, merge_layers

__all__ = [
    "Assignment",
    "BuiltPackage",
    "ChartDef",
    "ChartTree",
    "Component",
    "HelmNotFoundError",
    "InvalidNameError",
    "Layer",
    "MeshchartsError",
    "Profile",
    "ProfileError",
    "ProfileSet",
    "Resolution",
    "ResolvedValues",
    "SetArg",
    "TemplateError",
    "UserError",
    "ValuesError",
    "VersionError",
    "assemble_chart",
    "build_packages",
    "load_profiles",
    "merge_layers",
    "package_chart",
    "resolve",
    "write_build",
]
