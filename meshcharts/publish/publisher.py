"""Publish a build to a chart-repository folder or an OCI registry, idempotently.

A package already published with the same bytes is left alone; a different package under
a published name and version is refused unless forced; a version lower than the newest one
of its chart already in the target is refused. Writes are ordered so that an interrupted
publish leaves the target consistent and a rerun completes it: a folder gets its packages
first and its ``index.yaml`` last (each file replaced atomically); a registry gets its
blobs first and the tagged manifest last.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import semver

from meshcharts.base.archive import unpack
from meshcharts.base.fsutil import clean_stale, write_atomic
from meshcharts.base.limits import MAX_FILE, MAX_PACKAGE, load_json, read_limited
from meshcharts.errors import UserError
from meshcharts.inputs.buildrecord import BUILD_JSON, PackageRecord, inside, read_build_record
from meshcharts.inputs.yamlsource import load_yaml
from meshcharts.publish.credentials import Credentials
from meshcharts.publish.oci import (
    Connection,
    OciClient,
    chart_config,
    chart_manifest,
    digest_of,
    parse_oci,
)
from meshcharts.release.index import IndexEntry, index_yaml, timestamp
from meshcharts.release.package import source_date_epoch

__all__ = ["Published", "SourcePackage", "load_build", "publish", "publish_folder", "publish_oci"]


@dataclass(frozen=True)
class SourcePackage:
    """A package of a build output, with its provenance file if there is one."""

    profile: str
    name: str
    version: str
    path: str
    data: bytes
    metadata: dict[str, Any]
    prov: bytes | None

    @property
    def file_name(self) -> str:
        """``<name>-<version>.tgz``."""
        return Path(self.path).name

    @property
    def sha256(self) -> str:
        """Hex sha256 of the package."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Published:
    """What publishing one package did.

    ``action`` is ``copied`` (into a folder) or ``pushed`` (to a registry), ``unchanged``
    (the target already held the same bytes) or ``replaced`` (``force``).
    """

    package: SourcePackage
    where: str
    action: str


def _chart_metadata(data: bytes, name: str, subject: str) -> dict[str, Any]:
    """The Chart.yaml of package bytes, unpacked within Helm's limits."""
    package = unpack(data, subject)
    if package.top != name or "Chart.yaml" not in package.files:
        raise UserError(subject, f"is not a package of chart {name} (no {name}/Chart.yaml)")
    loaded = _load(package.files["Chart.yaml"], f"{subject}:{name}/Chart.yaml")
    if not isinstance(loaded, dict):
        raise UserError(subject, "Chart.yaml is not a mapping")
    return loaded


def _load(data: bytes, subject: str) -> Any:
    """YAML from outside, read as Helm reads it and within the YAML limits."""
    try:
        return load_yaml(data.decode("utf-8"), subject).data
    except UnicodeDecodeError as exc:
        raise UserError(subject, f"is not UTF-8 ({exc.reason})") from None


def _read_package(source: Path, entry: PackageRecord) -> SourcePackage:
    path = inside(source, entry.path, f"{source / BUILD_JSON}: {entry.path}")
    data = read_limited(path, MAX_PACKAGE)
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise UserError(str(path), "does not match its sha256 in build.json")
    prov_name = entry.provenance or f"{entry.path}.prov"
    prov_path = inside(source, prov_name, f"{source / BUILD_JSON}: {prov_name}")
    if entry.provenance and not prov_path.is_file():
        raise UserError(str(prov_path), "is listed in build.json but missing")
    prov = read_limited(prov_path, MAX_FILE) if prov_path.is_file() else None
    metadata = _chart_metadata(data, entry.chart, str(path))
    if str(metadata.get("version")) != entry.version:
        raise UserError(str(path), f"holds version {metadata.get('version')}, not {entry.version}")
    return SourcePackage(
        entry.profile, entry.chart, entry.version, entry.path, data, metadata, prov
    )


def load_build(source: Path, profiles: Sequence[str] = ()) -> list[SourcePackage]:
    """The packages listed in ``source/build.json``, checked against their digests.

    Every entry is validated before any file is read (see :mod:`meshcharts.inputs.buildrecord`):
    packages and provenance files are read only from inside ``source``.

    Raises:
        UserError: a missing or malformed build.json, a package outside the folder, a
            digest that does not match, or a ``--profile`` the build does not have.
    """
    what = f"--build-dir {source}"
    entries = read_build_record(source, what=what)
    chosen = [e for e in entries if not profiles or e.profile in profiles]
    if profiles:
        missing = sorted(set(profiles) - {e.profile for e in chosen})
        if missing:
            raise UserError(f"--profile {missing[0]}", f"not in {source / BUILD_JSON}")
    if not chosen:
        raise UserError(what, "build.json lists no packages")
    return [_read_package(source, entry) for entry in chosen]


def _version(text: str) -> semver.Version | None:
    try:
        return semver.Version.parse(text)
    except ValueError:
        return None


def _check_not_older(package: SourcePackage, existing: Sequence[str], where: str) -> None:
    """Refuse a version lower than the newest of ``existing`` (the target's versions)."""
    if package.version in existing:
        return
    versions = [v for v in (_version(e) for e in existing) if v is not None]
    if not versions:
        return
    newest = max(versions)
    if semver.Version.parse(package.version) < newest:
        raise UserError(
            f"{package.name} {package.version}",
            f"is lower than {package.name} {newest}, the newest version in {where}",
        )


def _conflict(package: SourcePackage, where: str) -> UserError:
    return UserError(
        f"{package.name} {package.version}",
        f"{where} already holds a different package under this name and version "
        "(publish a new version, or --force to replace it)",
    )


def _read_index(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The text of a repository's index.yaml and its entries, each checked."""
    if not path.is_file():
        return "", []
    data = read_limited(path, MAX_FILE)
    loaded = _load(data, str(path))
    if not isinstance(loaded, dict) or not isinstance(loaded.get("entries") or {}, dict):
        raise UserError(str(path), "is not a chart repository index")
    entries: list[dict[str, Any]] = []
    for name, items in (loaded.get("entries") or {}).items():
        if not isinstance(items, list):
            raise UserError(str(path), f"entries.{name} is not a list")
        for item in items:
            if not isinstance(item, dict) or _version(str(item.get("version"))) is None:
                raise UserError(
                    str(path), f"entries.{name}: an entry without a SemVer version: {item!r:.80}"
                )
            if "created" not in item or "name" not in item:
                raise UserError(str(path), f"entries.{name}: an entry without name or created")
            entries.append(dict(item))
    return data.decode("utf-8"), entries


def _entry(raw: dict[str, Any]) -> IndexEntry:
    metadata = {k: v for k, v in raw.items() if k not in ("created", "digest", "urls")}
    urls = raw.get("urls") or [""]
    return IndexEntry(metadata, str(urls[0]), str(raw.get("digest", "")), str(raw["created"]))


def _plan_folder(
    packages: Sequence[SourcePackage],
    entries: dict[tuple[str, str], IndexEntry],
    where: str,
    *,
    force: bool,
) -> list[tuple[SourcePackage, str]]:
    """What to do with each package (``copied``/``unchanged``/``replaced``), or refuse."""
    versions: dict[str, list[str]] = {}
    for name, version in entries:
        versions.setdefault(name, []).append(version)
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[SourcePackage, str]] = []
    for package in packages:
        key = (package.name, package.version)
        if key in seen:
            raise UserError(
                f"{package.name} {package.version}",
                "comes from more than one profile; publish one profile per repository "
                "(--profile NAME)",
            )
        seen.add(key)
        _check_not_older(package, versions.get(package.name, []), where)
        old = entries.get(key)
        if old is None:
            plan.append((package, "copied"))
        elif old.digest == package.sha256:
            plan.append((package, "unchanged"))
        elif force:
            plan.append((package, "replaced"))
        else:
            raise _conflict(package, where)
    return plan


@dataclass(frozen=True)
class _IndexText:
    """An index.yaml cut into its text before and after ``entries:`` and its entry blocks.

    Attributes:
        head: the text up to and including ``entries:``.
        items: ``(name line, [((name, version), entry text), ...])`` per chart.
        tail: the text after the entries.
    """

    head: str
    items: list[tuple[str, list[tuple[tuple[str, str], str]]]]
    tail: str


def _loaded(text: str) -> Any:
    """The YAML of one piece of an index, or ``_NOT_YAML``."""
    try:
        return load_yaml(text, "index.yaml").data
    except UserError:
        return _NOT_YAML


_NOT_YAML: Any = object()


def _name_blocks(
    items: list[tuple[str, list[tuple[tuple[str, str], str]]]], blocks: list[list[str]]
) -> bool:
    """Key each entry block of ``items`` by (name, version); False if one is not an entry."""
    flat = iter(blocks)
    for name_line, entries in items:
        name = _loaded(name_line.strip()[:-1])
        if name is _NOT_YAML:
            return False
        for position in range(len(entries)):
            block = next(flat)
            loaded = _loaded("".join(line[4:] for line in block))
            if not isinstance(loaded, dict) or "version" not in loaded:
                return False
            entries[position] = ((str(name), str(loaded["version"])), "".join(block))
    return True


def _cut_index(text: str) -> _IndexText | None:
    """Cut an index in the block layout Helm and meshcharts write; None for any other."""
    lines = text.splitlines(keepends=True)
    if "entries:\n" not in lines:
        return None
    start = lines.index("entries:\n") + 1
    items: list[tuple[str, list[tuple[tuple[str, str], str]]]] = []
    blocks: list[list[str]] = []
    end = len(lines)
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.startswith(" "):
            end = index
            break
        if line.startswith("  - ") and items:
            blocks.append([line])
            items[-1][1].append((("", ""), ""))
        elif line.startswith("    ") and blocks:
            blocks[-1].append(line)
        elif line.startswith("  ") and line.rstrip().endswith(":") and line[2] != " ":
            items.append((line, []))
        else:
            return None
    if not _name_blocks(items, blocks):
        return None
    return _IndexText("".join(lines[:start]), items, "".join(lines[end:]))


def merge_index(
    old_text: str,
    entries: Sequence[IndexEntry],
    generated: str,
    *,
    replaced: Collection[tuple[str, str]] = (),
) -> str:
    """index.yaml for ``entries``, keeping every entry of ``old_text`` byte for byte.

    The order (chart names, newest version first) and every new entry's text are those of
    :func:`index_yaml`; an entry that ``old_text`` already holds keeps its old text unless
    it is in ``replaced``. An old index in a layout not understood is rewritten whole.
    """
    rendered = index_yaml(entries, generated=generated)
    old = _cut_index(old_text) if old_text else None
    new = _cut_index(rendered)
    if old is None or new is None:
        return rendered
    kept = {key: block for _, blocks in old.items for key, block in blocks}
    out = [new.head]
    for name_line, blocks in new.items:
        out.append(name_line)
        out += [kept[k] if k in kept and k not in replaced else b for k, b in blocks]
    out.append(new.tail)
    return "".join(out)


@dataclass(frozen=True)
class _FolderPlan:
    """What publishing to one folder repository will do, decided before anything is written."""

    root: Path
    old_index: str
    entries: dict[tuple[str, str], IndexEntry]
    actions: list[tuple[SourcePackage, str]]


def _prepare_folder(packages: Sequence[SourcePackage], root: Path, *, force: bool) -> _FolderPlan:
    if root.exists() and not root.is_dir():
        raise UserError(f"--to {root}", "exists and is not a folder")
    index_path = root / "index.yaml"
    if index_path.is_symlink() or (index_path.exists() and not index_path.is_file()):
        raise UserError(str(index_path), "is not a regular file; nothing was published")
    old_index, raw = _read_index(index_path)
    entries = {(str(e["name"]), str(e["version"])): _entry(e) for e in raw}
    for package in packages:
        for name in (package.file_name, f"{package.file_name}.prov"):
            target = root / name
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise UserError(str(target), "is not a regular file; nothing was published")
    actions = _plan_folder(packages, entries, str(index_path), force=force)
    return _FolderPlan(root, old_index, entries, actions)


def _package_url(base: str | None, file_name: str) -> str:
    """The URL of a package in the index: ``BASE/<file>``, or relative to the index."""
    return f"{base.rstrip('/')}/{file_name}" if base else file_name


def _check_url(base: str | None) -> None:
    if base is None:
        return
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UserError(f"--url {base}", "give the repository's absolute http(s) URL")


def _apply_folder(plan: _FolderPlan, url: str | None = None) -> list[Published]:
    """Write packages (and .prov files) first, index.yaml last; each file atomically."""
    names = [n for p, _ in plan.actions for n in (p.file_name, f"{p.file_name}.prov")]
    clean_stale(plan.root, *(f".{name}.tmp-" for name in [*names, "index.yaml"]))
    stamp = timestamp(source_date_epoch())
    entries = dict(plan.entries)
    results: list[Published] = []
    for package, action in plan.actions:
        target = plan.root / package.file_name
        if action != "unchanged" or not target.is_file() or target.read_bytes() != package.data:
            write_atomic(target, package.data, clean=False)
        prov_target = target.with_name(target.name + ".prov")
        if package.prov is not None and (action != "unchanged" or not prov_target.is_file()):
            write_atomic(prov_target, package.prov, clean=False)
        elif package.prov is None and action == "replaced":
            prov_target.unlink(missing_ok=True)  # the old package's signature
        if action != "unchanged":
            entries[(package.name, package.version)] = IndexEntry.for_package(
                package.metadata, _package_url(url, package.file_name), package.data, stamp
            )
        results.append(Published(package, str(target), action))
    index_path = plan.root / "index.yaml"
    if any(r.action != "unchanged" for r in results) or not index_path.is_file():
        replaced = {(r.package.name, r.package.version) for r in results if r.action == "replaced"}
        merged = merge_index(plan.old_index, list(entries.values()), stamp, replaced=replaced)
        write_atomic(index_path, merged.encode(), clean=False)
    return results


def publish_folder(
    packages: Sequence[SourcePackage], root: Path, *, force: bool = False, url: str | None = None
) -> list[Published]:
    """Copy ``packages`` (and their .prov files) into folder ``root`` and merge its index.yaml.

    Existing entries are kept as they are (their ``created`` too); a new entry is stamped
    with ``SOURCE_DATE_EPOCH`` (or 0) and, with ``url`` (``helm repo index --url``), points
    at ``URL/<package>`` instead of the package beside the index. Nothing is written if any
    package is refused.
    """
    _check_url(url)
    return _apply_folder(_prepare_folder(packages, root, force=force), url)


def oci_tag(version: str) -> str:
    """The OCI tag of a chart version: ``+`` is not allowed in tags, Helm writes ``_``."""
    return version.replace("+", "_")


def publish_oci(
    packages: Sequence[SourcePackage],
    target: str,
    *,
    plain_http: bool = False,
    force: bool = False,
    profile_paths: bool = False,
    timeout: float = 60,
    connection: Connection | None = None,
    credentials: Credentials | None = None,
) -> list[Published]:
    """Push ``packages`` as Helm chart artifacts to ``oci://HOST[:PORT]/PATH``.

    The repository of chart NAME is ``PATH/NAME`` (``PATH/<profile>/NAME`` with
    ``profile_paths``), tagged with the version. The manifest's ``created`` annotation is
    ``SOURCE_DATE_EPOCH`` (or 0), so the same package always gets the same manifest digest.
    Every package is checked before anything is pushed; results come in push order.
    """
    ref = parse_oci(target)
    client = OciClient(
        ref.host,
        connection=connection or Connection(plain_http=plain_http, timeout=timeout),
        credentials=credentials,
    )
    client.ping()
    created = timestamp(source_date_epoch())
    plan: list[tuple[SourcePackage, str, bytes, bytes, str]] = []
    seen: set[tuple[str, str]] = set()
    for package in packages:
        repo = ref.repository(package.profile if profile_paths else "", package.name)
        where = f"oci://{ref.host}/{repo}"
        if (repo, package.version) in seen:
            raise UserError(
                f"{package.name} {package.version}",
                "comes from more than one profile; give --profile NAME",
            )
        seen.add((repo, package.version))
        tag = oci_tag(package.version)
        tags = client.tags(repo)
        _check_not_older(package, [t.replace("_", "+") for t in tags], where)
        config = chart_config(package.metadata)
        manifest = chart_manifest(package.metadata, config, package.data, package.prov, created)
        action = "pushed"
        if tag in tags:
            existing = client.manifest(repo, tag)
            if existing is not None:
                found = load_json(existing, f"{where}:{tag}")
                layers = found.get("layers") if isinstance(found, dict) else None
                layers = (
                    [x for x in layers if isinstance(x, dict)] if isinstance(layers, list) else []
                )
                if digest_of(package.data) in [layer.get("digest") for layer in layers]:
                    action = "unchanged"
                    manifest = existing  # what the registry holds, for its digest
                elif force:
                    action = "replaced"
                else:
                    raise _conflict(package, where)
        plan.append((package, repo, config, manifest, action))
    # Within a repository, lower versions first: a push interrupted between two tags leaves
    # only lower versions tagged, so the rerun's "not lower than the newest" check passes.
    repos = list(dict.fromkeys(item[1] for item in plan))
    plan.sort(key=lambda item: (repos.index(item[1]), semver.Version.parse(item[0].version)))
    results: list[Published] = []
    for package, repo, config, manifest, action in plan:
        where = f"oci://{ref.host}/{repo}:{oci_tag(package.version)}"
        if action != "unchanged":
            client.push_blob(repo, config)
            client.push_blob(repo, package.data)
            if package.prov is not None:
                client.push_blob(repo, package.prov)
            client.put_manifest(repo, oci_tag(package.version), manifest)
        results.append(Published(package, f"{where}@{digest_of(manifest)}", action))
    return results


def publish(
    source: Path,
    target: str,
    *,
    profiles: Sequence[str] = (),
    plain_http: bool = False,
    force: bool = False,
    timeout: float = 60,
    connection: Connection | None = None,
    credentials: Credentials | None = None,
    url: str | None = None,
) -> list[Published]:
    """Publish the build in ``source`` to a folder or an ``oci://`` registry.

    ``timeout`` is the deadline of each registry request, in seconds (connection and the
    whole reply); ``connection`` (TLS options and the deadline) replaces ``plain_http`` and
    ``timeout``; ``credentials`` log in to the registry (see
    :func:`~meshcharts.publish.credentials.find_credentials`); ``url`` makes a folder's new
    index entries absolute (``URL/<package>``).

    With ``profiles`` only their packages are published, straight into the target; without,
    every profile of the build goes to its own repository ``TARGET/<profile>``.
    """
    packages = load_build(source, profiles)
    per_profile = not profiles
    if url is not None and target.startswith("oci://"):
        raise UserError(f"--url {url}", "is for folder repositories, not oci://")
    if target.startswith("oci://"):
        return publish_oci(
            packages,
            target,
            plain_http=plain_http,
            force=force,
            profile_paths=per_profile,
            timeout=timeout,
            connection=connection,
            credentials=credentials,
        )
    if "://" in target:
        raise UserError(f"--to {target}", "give a folder or an oci://HOST[:PORT]/PATH reference")
    root = Path(target)
    if not per_profile:
        return publish_folder(packages, root, force=force, url=url)
    _check_url(url)
    profiles_built = list(dict.fromkeys(p.profile for p in packages))
    plans = [
        _prepare_folder([p for p in packages if p.profile == profile], root / profile, force=force)
        for profile in profiles_built
    ]
    return [
        result
        for profile, plan in zip(profiles_built, plans, strict=True)
        for result in _apply_folder(plan, f"{url.rstrip('/')}/{profile}" if url else None)
    ]
