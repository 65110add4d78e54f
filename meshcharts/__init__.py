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

from meshcharts.catalog.component import ChartDef, Component
from meshcharts.chart.assemble import ChartTree, assemble_chart
from meshcharts.chart.importvalues import ImportedValues, import_values
from meshcharts.checks.diff import DiffReport, diff_resolutions, diff_sides, format_diff
from meshcharts.checks.lint import Finding, lint
from meshcharts.checks.plan import Plan, check_packages, upgrade_plan
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
from meshcharts.inputs.environments import Environment, load_environment, load_environments
from meshcharts.inputs.profiles import Profile, ProfileSet, load_profiles
from meshcharts.inputs.setvalues import SetArg
from meshcharts.release.build import (
    BuildResult,
    BuiltPackage,
    CoexistReport,
    build_packages,
    check_revision,
    render_files,
    run_build,
    run_render,
    write_build,
)
from meshcharts.release.package import package_chart
from meshcharts.release.versioning import chart_version
from meshcharts.resolution.environments import resolve_environment
from meshcharts.resolution.resolve import Resolution, resolve
from meshcharts.values.merge import merge_layers
from meshcharts.values.origins import Assignment, Layer, ResolvedValues

__all__ = [
    "assemble_chart",
    "Assignment",
    "build_packages",
    "BuildResult",
    "BuiltPackage",
    "chart_version",
    "ChartDef",
    "ChartTree",
    "check_packages",
    "check_revision",
    "CoexistReport",
    "Component",
    "diff_resolutions",
    "diff_sides",
    "DiffReport",
    "Environment",
    "Finding",
    "format_diff",
    "HelmNotFoundError",
    "import_values",
    "ImportedValues",
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
    "render_files",
    "Resolution",
    "resolve",
    "resolve_environment",
    "ResolvedValues",
    "run_build",
    "run_render",
    "SetArg",
    "TemplateError",
    "upgrade_plan",
    "UserError",
    "ValuesError",
    "VersionError",
    "write_build",
]
