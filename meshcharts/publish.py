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
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import semver
import yaml

from meshcharts.errors import UserError
from meshcharts.fsutil import write_atomic
from meshcharts.oci import OciClient, chart_config, chart_manifest, digest_of, parse_oci
from meshcharts.package import source_date_epoch
from meshcharts.repoindex import IndexEntry, index_yaml, timestamp

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


def _chart_metadata(data: bytes, name: str) -> dict[str, Any]:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(f"{name}/Chart.yaml")
        if member is None:
            raise UserError(name, "package has no Chart.yaml")
        loaded = yaml.load(member.read(), Loader=_NoTimestampLoader)  # noqa: S506
    if not isinstance(loaded, dict):
        raise UserError(name, "Chart.yaml is not a mapping")
    return loaded


def load_build(source: Path, profiles: Sequence[str] = ()) -> list[SourcePackage]:
    """The packages listed in ``source/build.json``, checked against their digests."""
    record_path = source / "build.json"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"--from {source}", f"no readable build.json ({exc})") from None
    packages: list[SourcePackage] = []
    for entry in record.get("packages", []):
        if profiles and entry["profile"] not in profiles:
            continue
        path = source / entry["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(str(path), f"cannot be read: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise UserError(str(path), "does not match its sha256 in build.json")
        listed = entry.get("provenance")
        prov_path = source / listed if listed else path.with_name(path.name + ".prov")
        if listed and not prov_path.is_file():
            raise UserError(str(prov_path), "is listed in build.json but missing")
        prov = prov_path.read_bytes() if prov_path.is_file() else None
        packages.append(
            SourcePackage(
                entry["profile"],
                entry["chart"],
                entry["version"],
                entry["path"],
                data,
                _chart_metadata(data, entry["chart"]),
                prov,
            )
        )
    if profiles:
        missing = sorted(set(profiles) - {p.profile for p in packages})
        if missing:
            raise UserError(f"--profile {missing[0]}", f"not in {record_path}")
    if not packages:
        raise UserError(f"--from {source}", "build.json lists no packages")
    return packages


class _NoTimestampLoader(yaml.SafeLoader):
    """SafeLoader that keeps RFC 3339 times as the strings they were written as."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def _read_index(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        loaded = yaml.load(path.read_bytes(), Loader=_NoTimestampLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise UserError(str(path), f"is not valid YAML ({exc})") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("entries") or {}, dict):
        raise UserError(str(path), "is not a chart repository index")
    return [dict(e) for items in (loaded.get("entries") or {}).values() for e in items or []]


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
    flat = iter(blocks)
    for name_line, entries in items:
        name = str(yaml.safe_load(name_line.strip()[:-1]))
        for position in range(len(entries)):
            block = next(flat)
            loaded = yaml.load(  # noqa: S506
                "".join(line[4:] for line in block), Loader=_NoTimestampLoader
            )
            if not isinstance(loaded, dict) or "version" not in loaded:
                return None
            entries[position] = ((name, str(loaded["version"])), "".join(block))
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
    old_index = index_path.read_text() if index_path.is_file() else ""
    entries = {(str(e["name"]), str(e["version"])): _entry(e) for e in _read_index(index_path)}
    actions = _plan_folder(packages, entries, str(index_path), force=force)
    return _FolderPlan(root, old_index, entries, actions)


def _apply_folder(plan: _FolderPlan) -> list[Published]:
    """Write packages (and .prov files) first, index.yaml last; each file atomically."""
    stamp = timestamp(source_date_epoch())
    entries = dict(plan.entries)
    results: list[Published] = []
    for package, action in plan.actions:
        target = plan.root / package.file_name
        if action != "unchanged" or not target.is_file() or target.read_bytes() != package.data:
            write_atomic(target, package.data)
        prov_target = target.with_name(target.name + ".prov")
        if package.prov is not None and (action != "unchanged" or not prov_target.is_file()):
            write_atomic(prov_target, package.prov)
        elif package.prov is None and action == "replaced":
            prov_target.unlink(missing_ok=True)  # the old package's signature
        if action != "unchanged":
            entries[(package.name, package.version)] = IndexEntry.for_package(
                package.metadata, package.file_name, package.data, stamp
            )
        results.append(Published(package, str(target), action))
    index_path = plan.root / "index.yaml"
    if any(r.action != "unchanged" for r in results) or not index_path.is_file():
        replaced = {(r.package.name, r.package.version) for r in results if r.action == "replaced"}
        merged = merge_index(plan.old_index, list(entries.values()), stamp, replaced=replaced)
        write_atomic(index_path, merged.encode())
    return results


def publish_folder(
    packages: Sequence[SourcePackage], root: Path, *, force: bool = False
) -> list[Published]:
    """Copy ``packages`` (and their .prov files) into folder ``root`` and merge its index.yaml.

    Existing entries are kept as they are (their ``created`` too); a new entry is stamped
    with ``SOURCE_DATE_EPOCH`` (or 0). Nothing is written if any package is refused.
    """
    return _apply_folder(_prepare_folder(packages, root, force=force))


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
) -> list[Published]:
    """Push ``packages`` as Helm chart artifacts to ``oci://HOST[:PORT]/PATH``.

    The repository of chart NAME is ``PATH/NAME`` (``PATH/<profile>/NAME`` with
    ``profile_paths``), tagged with the version. The manifest's ``created`` annotation is
    ``SOURCE_DATE_EPOCH`` (or 0), so the same package always gets the same manifest digest.
    Every package is checked before anything is pushed; results come in push order.
    """
    ref = parse_oci(target)
    client = OciClient(ref.host, plain_http=plain_http, timeout=timeout)
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
                layers = json.loads(existing).get("layers") or []
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
) -> list[Published]:
    """Publish the build in ``source`` to a folder or an ``oci://`` registry.

    With ``profiles`` only their packages are published, straight into the target; without,
    every profile of the build goes to its own repository ``TARGET/<profile>``.
    """
    packages = load_build(source, profiles)
    per_profile = not profiles
    if target.startswith("oci://"):
        return publish_oci(
            packages, target, plain_http=plain_http, force=force, profile_paths=per_profile
        )
    if "://" in target:
        raise UserError(f"--to {target}", "give a folder or an oci://HOST[:PORT]/PATH reference")
    root = Path(target)
    if not per_profile:
        return publish_folder(packages, root, force=force)
    plans = [
        _prepare_folder([p for p in packages if p.profile == profile], root / profile, force=force)
        for profile in dict.fromkeys(p.profile for p in packages)
    ]
    return [result for plan in plans for result in _apply_folder(plan)]
