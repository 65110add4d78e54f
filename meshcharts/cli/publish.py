"""``meshcharts publish`` and ``meshcharts registry login|logout``: charts to repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshcharts.cli.common import (
    CONTEXT,
    BuildDirOpt,
    CaFileOpt,
    CertFileOpt,
    FormatOpt,
    InsecureOpt,
    KeyFileOpt,
    PasswordStdinOpt,
    PlainHttpOpt,
    Registry,
    TextOrJson,
    TimeoutOpt,
    UsernameOpt,
    app,
    chosen_build_dir,
    hidden_alias,
    plural,
    print_json,
    registry_connection,
    registry_credentials,
    user_errors,
)

registry_app = typer.Typer(
    help="Log in to or out of an OCI registry (Helm's registry config).",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(registry_app, name="registry")

RegistryConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--registry-config",
        metavar="FILE",
        help="Helm's registry config file (default: $HELM_REGISTRY_CONFIG, else Helm's).",
    ),
]


@app.command()
@user_errors
def publish(
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="TARGET", help="A chart-repository folder or oci://HOST[:PORT]/PATH."
        ),
    ],
    build_dir: BuildDirOpt = Path("charts_out"),
    from_: Annotated[Path | None, hidden_alias("--from")] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            help="Publish only this profile, straight into TARGET (repeatable; default: every "
            "profile, each into TARGET/<profile>).",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="BASE",
            help="A folder repository's URL: new index entries point at BASE/<package>.",
        ),
    ] = None,
    plain_http: PlainHttpOpt = False,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    insecure: InsecureOpt = False,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a different package of the same version.")
    ] = False,
    timeout: TimeoutOpt = 60,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Publish a build to a chart-repository folder or an OCI registry (idempotent)."""
    from meshcharts.publish.oci import parse_oci
    from meshcharts.publish.publisher import publish as publish_build

    connection = registry_connection(plain_http, ca_file, cert_file, key_file, insecure, timeout)
    credentials = None
    if to.startswith("oci://"):
        credentials = registry_credentials(parse_oci(to).host, username, password_stdin)
    names = list(dict.fromkeys(profile or []))
    results = publish_build(
        chosen_build_dir(build_dir, from_, "--from"),
        to,
        profiles=names,
        force=force,
        connection=connection,
        credentials=credentials,
        url=url,
    )
    changed = sum(r.action != "unchanged" for r in results)
    # Which credentials were used, never the secret: the first source that had the registry.
    used = None if not to.startswith("oci://") else (credentials.source if credentials else "")
    if output is TextOrJson.json:
        print_json(
            {
                "target": to,
                "credentials": used,
                "published": changed,
                "unchanged": len(results) - changed,
                "results": [
                    {"action": r.action, "package": r.package.path, "where": r.where}
                    for r in results
                ],
            }
        )
        return
    for result in results:
        typer.echo(f"{result.action:9}  {result.package.path}  ->  {result.where}")
    typer.echo(
        f"published {plural(changed, 'package')}, {len(results) - changed} unchanged, to {to}"
        + (f" (credentials: {used or 'none, anonymous'})" if used is not None else "")
    )


@registry_app.command("login")
@user_errors
def registry_login(
    host: Annotated[
        Registry,
        typer.Argument(metavar="HOST[:PORT]", parser=Registry, show_default=False),
    ],
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    registry_config: RegistryConfigOpt = None,
    plain_http: PlainHttpOpt = False,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    insecure: InsecureOpt = False,
    timeout: TimeoutOpt = 60,
) -> None:
    """Check credentials against a registry and keep them in Helm's registry config."""
    from meshcharts.publish.credentials import helm_registry_config
    from meshcharts.publish.oci import login

    if not username or not password_stdin:
        from meshcharts.errors import UserError

        raise UserError("registry login", "give --username and --password-stdin")
    connection = registry_connection(plain_http, ca_file, cert_file, key_file, insecure, timeout)
    credentials = registry_credentials(host, username, password_stdin)
    assert credentials is not None
    path = registry_config or helm_registry_config()
    login(host, credentials, connection, path)
    typer.echo(f"Login Succeeded (saved in {path})")


@registry_app.command("logout")
@user_errors
def registry_logout(
    host: Annotated[
        Registry,
        typer.Argument(metavar="HOST[:PORT]", parser=Registry, show_default=False),
    ],
    registry_config: RegistryConfigOpt = None,
) -> None:
    """Remove a registry's login from Helm's registry config."""
    from meshcharts.errors import UserError
    from meshcharts.publish.credentials import forget_login, helm_registry_config

    path = registry_config or helm_registry_config()
    if not forget_login(host, path):
        raise UserError(f"registry {host}", f"not logged in (no entry in {path})")
    typer.echo(f"Removed the login of {host} from {path}")
