"""The container files, checked structurally (no container runtime can run here: the package
sources offer docker.io and podman, but no image registry is reachable to pull the base images;
README "Container"). Rules in the spirit of hadolint, plus consistency with the settings."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from coronacheck import configuration

BASE = Path(__file__).resolve().parents[2]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (BASE / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)  # line continuations
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_the_dockerfile_is_multi_stage_slim_and_pinned():
    stages = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert len(stages) >= 2
    for stage in stages:
        image = stage.split()[0]
        assert ":" in image and not image.endswith(":latest"), f"pin the base image: {image}"
        assert "slim" in image
    assert stages[0].endswith("AS build") and stages[-1].endswith("AS runtime")
    runtime = dockerfile_instructions()[[k for k, _ in dockerfile_instructions()].index("FROM", 1) :]
    assert any(k == "COPY" and r.startswith("--from=build") for k, r in runtime), "the runtime stage copies the build"
    assert not any(k == "RUN" and "pip install" in r for k, r in runtime), "no build tools in the runtime stage"


def test_the_image_runs_as_an_unprivileged_user_with_a_healthcheck_and_the_production_command():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    user = [rest for keyword, rest in instructions if keyword == "USER"][-1]
    assert user.split(":")[0] not in ("0", "root")
    assert keywords.index("USER") < keywords.index("CMD")
    healthcheck = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert len(healthcheck) == 1 and "coronacheck.healthcheck" in healthcheck[0]
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"][-1]
    assert json.loads(cmd) == ["bin/serve"], "exec form, the production server command"
    assert "-m coronacheck.server" in (BASE / "bin" / "serve").read_text()  # uvicorn with the request time limits
    for keyword, rest in instructions:
        assert keyword != "ADD", "COPY, not ADD"
        if keyword == "RUN" and "apt-get install" in rest:
            assert "--no-install-recommends" in rest
        if keyword == "WORKDIR":
            assert rest.startswith("/")
    # Dependencies before the sources, so that a code change does not reinstall them.
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    assert copies.index("requirements.txt ./") < copies.index(". .")


def test_the_image_sets_production_settings_and_collects_static_files():
    env = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "ENV")
    assert "DEBUG=false" in env and "STATIC_MANIFEST=true" in env and "PROMETHEUS_MULTIPROC_DIR=" in env
    assert any(keyword == "RUN" and "collectstatic" in rest for keyword, rest in dockerfile_instructions())
    for name in re.findall(r"\b([A-Z][A-Z0-9_]+)=", env):
        assert name in configuration.BY_NAME or name in {
            "PATH",
            "PYTHONUNBUFFERED",
            "PYTHONDONTWRITEBYTECODE",
            "PIP_NO_CACHE_DIR",
            "PIP_DISABLE_PIP_VERSION_CHECK",
            "DJANGO_SETTINGS_MODULE",
        }, name


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((BASE / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".dev", ".test-secrets", "test-artifacts"} <= ignored


def test_compose_runs_postgresql_the_service_and_the_reference_signers():
    compose = yaml.safe_load((BASE / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "service", "signers", "migrate"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    service = services["service"]
    assert service["command"] == ["bin/serve"]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service["depends_on"]["signers"]["condition"] == "service_healthy"
    assert "run_reference_signers" in shlex.join(services["signers"]["command"])
    environment = service["environment"]
    # Every variable the service gets is a setting of the configuration reference.
    assert set(environment) <= set(configuration.BY_NAME)
    for name in ("DOMESTIC_NL_VWS_PREPARE_ISSUE_URL", "EU_INTERNATIONAL_SIGNING_URL"):
        assert environment[name].startswith("http://signers:")
    assert environment["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in environment["DATABASE_URL"]
