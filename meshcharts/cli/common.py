"""What the commands share: the typer apps, the option vocabulary, output and parsing.

The app objects live here, not in the package's ``__init__``: that ``__init__`` imports the
command modules, which could not then take ``app`` from it without a circular import.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from meshcharts.catalog.charts import ISTIO_VERSION
from meshcharts.errors import UserError
from meshcharts.inputs.environments import Environment, load_environment
from meshcharts.inputs.profiles import ProfileSet, load_profiles
from meshcharts.inputs.setvalues import SetArg
from meshcharts.release.versioning import chart_version
from meshcharts.resolution.environments import resolve_environment
from meshcharts.resolution.resolve import Resolution, resolve

if TYPE_CHECKING:  # imported when a command talks to a registry, not at every start
    from meshcharts.publish.credentials import Credentials
    from meshcharts.publish.oci import Connection

CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="meshcharts",
    help="Compose Istio-style service-mesh Helm charts from Python profiles.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)
golden_app = typer.Typer(
    help="Check or update the golden files.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(golden_app, name="golden")
version_app = typer.Typer(
    help="Show or bump the project's chart version.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(version_app, name="version")

F = TypeVar("F", bound=Callable[..., Any])


class TextOrJson(StrEnum):
    """Output formats of the reports: text for people, JSON for tools."""

    text = "text"
    json = "json"


VERSION_HELP = (
    "Chart version, strict SemVer 2 (default: [chart] version of ./meshcharts.toml, "
    f"else {ISTIO_VERSION})."
)

ProfileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        help="Profile to build (repeatable; default: every built-in profile).",
    ),
]
OneProfileOpt = Annotated[str, typer.Option("--profile", "-p", metavar="NAME", help="The profile.")]
ProfileOrEnvOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", metavar="NAME", help="The profile (or give --env)."),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env", metavar="FILE", help="One environment file: its profile, values and inventory."
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="A value with Helm's syntax and typing (repeatable)."
    ),
]
SetStringOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set-string", metavar="KEY=VALUE", help="A value that stays a string (repeatable)."
    ),
]
ProfilesDirOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", metavar="DIR", help="Folder of extra profile files (repeatable)."),
]
ComponentsDirOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--components",
        metavar="DIR",
        help="Folder of your own component and chart files (repeatable).",
    ),
]
VersionOpt = Annotated[str | None, typer.Option("--version", metavar="SEMVER", help=VERSION_HELP)]
BuildDirOpt = Annotated[
    Path,
    typer.Option("--build-dir", metavar="DIR", help="The build folder (build.json, packages)."),
]


def hidden_alias(name: str) -> Any:
    """A hidden option that keeps an earlier name of ``--build-dir`` working in scripts."""
    return typer.Option(name, metavar="DIR", hidden=True, help="Old name of --build-dir.")


def chosen_build_dir(build_dir: Path, old: Path | None, old_name: str) -> Path:
    """``--build-dir``, or the folder given under its old name (not both, if they differ)."""
    if old is None:
        return build_dir
    if build_dir != Path("charts_out") and build_dir != old:
        raise UserError(old_name, "is the old name of --build-dir; give one of them, not both")
    return old


SourceCommitOpt = Annotated[
    str | None,
    typer.Option(
        "--source-commit",
        metavar="SHA",
        help="Record this commit in Chart.yaml (default: $SOURCE_COMMIT, else unknown).",
    ),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", metavar="FORMAT", help="text or json.")]


# --- output ----------------------------------------------------------------------------------


def colour(stream: IO[str]) -> bool:
    """Whether to colour what goes to ``stream``: a terminal, no ``NO_COLOR``, not ``dumb``."""
    isatty = getattr(stream, "isatty", None)
    return (
        bool(isatty and isatty())
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )


def print_error(message: str) -> None:
    """Print ``error: MESSAGE`` on stderr as one line, red only where colour is wanted."""
    # One line, always: a message that spans lines (a tool's stderr, say) is joined.
    text = "error: " + " ".join(message.split())
    typer.echo(typer.style(text, fg=typer.colors.RED) if colour(sys.stderr) else text, err=True)


def print_json(data: Any) -> None:
    """Print one JSON document on stdout, keys sorted."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 package``, ``2 packages`` (``many`` for irregular plurals)."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


# What the machine refuses is the user's to fix: a full disk, a read-only file system, no
# permission, a name too long. Each is named with the path, as a user error.
_USER_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ELOOP,
        errno.EMFILE,
        errno.ENOENT,
    }
)


def user_errors(func: F) -> F:
    """Turn a UserError (and the machine's refusals) into one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None
        except OSError as exc:
            if exc.errno not in _USER_ERRNOS:
                raise
            where = exc.filename if exc.filename is not None else "meshcharts"
            print_error(f"{where}: {exc.strerror or exc}")
            raise typer.Exit(2) from None
        except RecursionError:
            print_error("input: nested too deeply to process")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


# --- shared parsing --------------------------------------------------------------------------


def set_args(sets: list[str] | None, strings: list[str] | None) -> list[SetArg]:
    """The ``--set`` and ``--set-string`` arguments in the order Helm applies them."""
    # Helm applies every --set before every --set-string.
    return [SetArg(s) for s in sets or []] + [SetArg(s, string=True) for s in strings or []]


def profile_set(dirs: list[Path] | None, components: list[Path] | None = None) -> ProfileSet:
    """The built-in profiles, those of ``--profiles``, and the ``--components`` catalog."""
    return load_profiles(list(dict.fromkeys(dirs or [])), list(dict.fromkeys(components or [])))


def chosen_version(explicit: str | None) -> str:
    """The chart version: ``--version``, else ./meshcharts.toml, else the built-in one."""
    return chart_version(explicit, Path.cwd()).version


def chosen_environment(env: Path | None, profile: str | None) -> tuple[Environment | None, str]:
    """The environment of ``--env`` (if any) and the profile to use."""
    if env is None:
        if profile is None:
            raise UserError("--profile", "missing (give --profile NAME or --env FILE)")
        return None, profile
    environment = load_environment(env)
    if profile is not None and profile != environment.profile:
        raise UserError(
            f"--profile {profile}",
            f"environment {environment.name!r} uses profile {environment.profile!r}",
        )
    return environment, environment.profile


def resolve_choice(
    available: ProfileSet, environment: Environment | None, profile: str, sets: list[SetArg]
) -> Resolution:
    """The profile, or the environment over its profile, with ``--set`` last."""
    if environment is None:
        return resolve(available, profile, sets=sets)
    return resolve_environment(available, environment, sets=sets)


# --- registries -------------------------------------------------------------------------


class Package(str):
    """A package argument: a ``.tgz`` file or an ``oci://HOST/PATH/NAME:VERSION`` reference.

    A class of its own so that help shows ``<Package>`` beside the argument (typer shows
    the type), not ``<str>``.
    """

    __slots__ = ()


class Registry(str):
    """A registry argument, ``HOST[:PORT]`` (help shows ``<Registry>``)."""

    __slots__ = ()


UsernameOpt = Annotated[
    str | None, typer.Option("--username", metavar="USER", help="Registry user name.")
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the registry password or token from stdin."),
]
CaFileOpt = Annotated[
    Path | None,
    typer.Option("--ca-file", metavar="FILE", help="Trust these PEM certificates too (HTTPS)."),
]
CertFileOpt = Annotated[
    Path | None,
    typer.Option("--cert-file", metavar="FILE", help="Client certificate (PEM) for the registry."),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", metavar="FILE", help="Key of the client certificate (PEM)."),
]
InsecureOpt = Annotated[
    bool,
    typer.Option(
        "--insecure-skip-tls-verify", help="HTTPS without checking the registry's certificate."
    ),
]
PlainHttpOpt = Annotated[
    bool, typer.Option("--plain-http", help="Talk HTTP, not HTTPS, to the registry.")
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help="Deadline of each registry request: connection and whole reply.",
    ),
]
MAX_PASSWORD = 64 * 1024


def registry_connection(
    plain_http: bool,
    ca_file: Path | None,
    cert_file: Path | None,
    key_file: Path | None,
    insecure: bool,
    timeout: float,
) -> Connection:
    """The registry connection options of a command line."""
    from meshcharts.publish.oci import Connection

    if key_file is not None and cert_file is None:
        raise UserError("--key-file", "goes with --cert-file")
    return Connection(plain_http, ca_file, cert_file, key_file, insecure, timeout)


def registry_credentials(
    host: str, username: str | None, password_stdin: bool
) -> Credentials | None:
    """The credentials for ``host``: the command line's, else the first stored ones."""
    from meshcharts.publish.credentials import find_credentials

    password = None
    if password_stdin:
        text = sys.stdin.read(MAX_PASSWORD + 1)
        if len(text) > MAX_PASSWORD:
            raise UserError("--password-stdin", f"more than {MAX_PASSWORD} characters")
        password = text.rstrip("\r\n")
        if not password:
            raise UserError("--password-stdin", "read an empty password")
    return find_credentials(host, username=username, password=password)
