"""docker-compose.yml, Dockerfile, .dockerignore and .env.example, checked by parsing (Docker cannot run here)."""

from __future__ import annotations

import json
import re
import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"api": ["api"], "engine": ["engine"], "discord": ["discord"], "slack": ["slack"]}
APP_SERVICES = {*ROLES, "migrate"}
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|WEBHOOK_URL)$")
REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?[-?][^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _is_secret_type(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_secret_type(arg) for arg in typing.get_args(annotation))
    return False


def settings_env_names() -> dict[str, bool]:
    """Every environment variable Settings reads -> whether it is a secret."""
    names: dict[str, bool] = {}
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseSettings):
            prefix = str(group.model_config.get("env_prefix", ""))
            for sub, sub_field in group.model_fields.items():
                names[(prefix + sub).upper()] = _is_secret_type(sub_field.annotation)
        else:
            names[name.upper()] = _is_secret_type(field.annotation)
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_services_are_the_stores_and_the_four_roles(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "redis", "api", "engine", "discord", "slack"} <= set(services)
    assert set(services) <= {"postgres", "redis", "migrate", "api", "engine", "discord", "slack"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_one_image_built_from_the_dockerfile_runs_every_app_service(services: dict[str, dict[str, Any]]) -> None:
    app = {name: services[name] for name in APP_SERVICES if name in services}
    assert set(ROLES) <= set(app)
    assert len({s["image"] for s in app.values()}) == 1
    builds = {json.dumps(s.get("build"), sort_keys=True) for s in app.values() if s.get("build") is not None}
    assert len(builds) == 1
    build = next(s["build"] for s in app.values() if s.get("build") is not None)
    build = {"context": build} if isinstance(build, str) else build
    assert build["context"] in (".", "./")
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    for name in ("postgres", "redis"):
        assert "build" not in services[name]


def test_each_role_runs_its_tradeassist_command(services: dict[str, dict[str, Any]]) -> None:
    for name, command in ROLES.items():
        assert services[name]["command"] == command, name
        assert "entrypoint" not in services[name], f"{name} must keep the image's tradeassist entrypoint"
    api_env = _environment(services["api"])
    assert api_env["API_HOST"] == "0.0.0.0"
    assert any(str(port).split(":")[-1] == "8000" for port in services["api"]["ports"])


def test_the_schema_is_migrated_before_any_role_starts(services: dict[str, dict[str, Any]]) -> None:
    if "migrate" in services:
        assert services["migrate"]["command"] == ["db", "upgrade"]
        assert services["migrate"].get("restart") in ("no", None)
        assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
        for name in ROLES:
            assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    else:
        api_command = services["api"].get("command")
        assert "db upgrade" in json.dumps(api_command), "without a migrate service the api must upgrade first"


def test_dependencies_wait_for_healthy_stores(services: dict[str, dict[str, Any]]) -> None:
    for name in ROLES:
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            if rule["condition"] == "service_healthy":
                assert services[target].get("healthcheck", {}).get("test"), f"{target} needs a healthcheck"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name == "migrate":
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
    assert "/api/v1/diag/health" in json.dumps(services["api"]["healthcheck"]["test"])
    assert "pg_isready" in json.dumps(services["postgres"]["healthcheck"]["test"])
    assert "ping" in json.dumps(services["redis"]["healthcheck"]["test"])


def test_app_services_share_postgres_redis_and_the_env_file(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES & set(services):
        service = services[name]
        env_files = service["env_file"]
        env_files = [env_files] if isinstance(env_files, str | dict) else env_files
        paths = [item["path"] if isinstance(item, dict) else item for item in env_files]
        assert paths == [".env"], name
        env = _environment(service)
        url = urlsplit(env["DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg", name
        assert url.hostname == "postgres"
        assert env["EVENT_BUS_URL"] == "redis://redis:6379/0"
    for name in ("postgres", "redis"):
        assert "env_file" not in services[name], f"{name} must not receive the app's secrets"


def test_no_secret_value_is_inlined(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    secret_settings = {name for name, secret in settings_env_names().items() if secret}
    for name, service in services.items():
        for key, value in _environment(service).items():
            assert key not in secret_settings, f"{name}: {key} belongs in .env, not in docker-compose.yml"
            if SECRET_NAME.search(key):
                assert REFERENCE.match(value), f"{name}: {key} must be a ${{VAR}} reference to .env"
            password = urlsplit(value).password if "://" in value else None
            if password is not None:
                assert REFERENCE.match(password), f"{name}: the password in {key} must come from .env"
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in secret_settings:
        assert not re.search(rf"^\s*-?\s*{secret}\s*[:=]", text, re.MULTILINE), secret


def test_every_compose_variable_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    for variable in set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)):
        assert re.search(rf"^#?\s*{variable}=", example, re.MULTILINE), variable


def test_env_example_lists_every_setting_with_secrets_empty() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    assignments = {}
    for line in lines:
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            assignments[match.group(1)] = match.group(2).strip()
    names = settings_env_names()
    missing = sorted(set(names) - set(assignments))
    assert not missing, f".env.example lacks {missing}"
    for name, secret in names.items():
        if secret or SECRET_NAME.search(name):
            assert assignments[name] == "", f"{name} must be empty in .env.example"
    assert assignments["POSTGRES_PASSWORD"] == ""
    active = [line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)]
    assert active == ["POSTGRES_PASSWORD"], "app settings stay commented so their defaults apply"


def test_dockerfile_runs_tradeassist_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", instructions[0][1]), "the base image is pinned by version"
    entrypoints = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == ["tradeassist"]
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the image must switch to a non-root user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert max(i for i, k in enumerate(keywords) if k == "USER") < keywords.index("ENTRYPOINT")
    assert any(k == "RUN" and "useradd" in rest and user in rest for k, rest in instructions)
    healthchecks = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert healthchecks and "/api/v1/diag/health" in healthchecks[-1]



def test_dockerfile_installs_from_the_lock_only() -> None:
    runs = [rest for keyword, rest in dockerfile_instructions() if keyword == "RUN"]
    copied = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "COPY")
    assert "uv.lock" in copied and "requirements/uv.txt" in copied
    installs = [run for run in runs if "install" in run or "sync" in run]
    assert installs and all("--require-hashes" in run or "sync --locked --no-dev" in run for run in installs), installs


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".env", ".git", ".venv", "var"} <= ignored
