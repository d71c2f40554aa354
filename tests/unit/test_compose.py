"""No Docker engine runs here: docker-compose.yml is validated against the compose specification's
JSON schema (vendored, tests/support/compose-spec) and cross-checked with the code
(tests/support/deployment.py), and everything it references must exist."""

import copy
import hashlib
import json
import re
from pathlib import Path

import jsonschema
import yaml

from ibrain.settings import REPO_ROOT
from tests.support.deployment import check_compose

SCHEMA = REPO_ROOT / "tests" / "support" / "compose-spec" / "compose-spec.json"
SCHEMA_SHA256 = "1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e"

REQUIRED_SERVICES = {
    "minio",
    "lake-init",
    "postgres",
    "spark-connect",
    "dagster-code",
    "dagster-webserver",
    "dagster-daemon",
    "data-service",
    "simulate",
}


def load_compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def referenced_paths(compose: dict) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = REPO_ROOT / (build if isinstance(build, str) else build.get("context", "."))
            found.append((f"{name}: build context", context))
            if isinstance(build, dict) and "dockerfile" in build:
                found.append((f"{name}: dockerfile", context / build["dockerfile"]))
            elif isinstance(build, str) or "dockerfile" not in build:
                found.append((f"{name}: Dockerfile", context / "Dockerfile"))
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            found.append((f"{name}: env_file", REPO_ROOT / env_file))
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith(("./", "/", "../")):
                found.append((f"{name}: volume", REPO_ROOT / source))
    return found


def test_services_present() -> None:
    assert set(load_compose()["services"]) >= REQUIRED_SERVICES


def test_every_referenced_file_exists() -> None:
    refs = referenced_paths(load_compose())
    assert len(refs) >= 12
    missing = [f"{what}: {path}" for what, path in refs if not path.exists()]
    assert not missing, missing


def test_named_volumes_are_declared() -> None:
    compose = load_compose()
    declared = set(compose.get("volumes", {}))
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, source


def test_env_file_marks_demo_values() -> None:
    text = (REPO_ROOT / "docker" / "compose.env").read_text()
    assert "IBRAIN_ENV=demo" in text and "DEMO values" in text


def test_the_file_validates_against_the_compose_specification() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    compose = load_compose()
    assert [e.message for e in validator.iter_errors(compose)] == []
    broken = copy.deepcopy(compose)
    broken["services"]["data-service"]["restart_policy"] = "always"  # not a service property
    assert any("restart_policy" in e.message for e in validator.iter_errors(broken))


def test_the_file_agrees_with_the_code() -> None:
    assert check_compose(load_compose()) == []


def test_a_wrong_port_is_named() -> None:
    broken = copy.deepcopy(load_compose())
    broken["services"]["dagster-code"]["expose"] = ["4001"]
    broken["services"]["data-service"]["ports"] = ["${IBRAIN_BIND:-127.0.0.1}:8001:8001"]
    broken["services"]["minio"]["expose"] = ["9001"]
    assert check_compose(broken) == [
        "service minio: publishes ${IBRAIN_BIND:-127.0.0.1}:9000:9000, a port it does not expose",
        "service lake-init: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service spark-connect: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service dagster-code: listens on 4000 but exposes [4001]",
        "service dagster-code: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service dagster-webserver: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service dagster-daemon: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service data-service: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "service data-service: publishes ${IBRAIN_BIND:-127.0.0.1}:8001:8001, a port it does not expose",
        "service simulate: AWS_ENDPOINT_URL port 9000 is not exposed by minio",
        "docker/workspace.yaml: dagster-code:4000 is not an exposed port",
    ]


def test_a_missing_or_unknown_variable_is_named() -> None:
    broken = copy.deepcopy(load_compose())
    del broken["services"]["data-service"]["environment"]["IBRAIN_MASKING_KEY_FILE"]
    broken["services"]["data-service"]["environment"]["IBRAIN_LAKE_ROT"] = "s3://lake/ibrain"
    assert check_compose(broken) == [
        "service data-service: IBRAIN_LAKE_ROT is not read by the code or a known program",
        "service data-service: IBRAIN_MASKING_KEY_FILE is missing (serve needs it)",
    ]


def test_ports_are_published_on_the_bind_address_only() -> None:
    compose = load_compose()
    published = {name: s["ports"] for name, s in compose["services"].items() if "ports" in s}
    assert published == {
        "minio": ["${IBRAIN_BIND:-127.0.0.1}:9000:9000", "${IBRAIN_BIND:-127.0.0.1}:9001:9001"],
        "spark-connect": ["${IBRAIN_BIND:-127.0.0.1}:15002:15002"],
        "dagster-webserver": ["${IBRAIN_BIND:-127.0.0.1}:3000:3000"],
        "data-service": ["${IBRAIN_BIND:-127.0.0.1}:8000:8000"],
    }
    broken = copy.deepcopy(compose)
    broken["services"]["postgres"]["ports"] = ["5432:5432"]
    assert check_compose(broken) == [
        "service postgres: port 5432:5432 is not bound to ${IBRAIN_BIND:-127.0.0.1}"
    ]


def test_the_data_service_and_the_demo_profile() -> None:
    services = load_compose()["services"]
    assert services["data-service"]["command"] == ["ibrain", "serve", "--host", "0.0.0.0", "--port", "8000"]
    # read-only keys, and not the checkpoint key (only the pipeline signs audit checkpoints)
    assert services["data-service"]["volumes"] == ["ibrain-keys:/opt/ibrain/keys:ro"]
    assert "IBRAIN_CHECKPOINT_KEY_FILE" not in services["data-service"]["environment"]
    assert {name for name, s in services.items() if "profiles" in s} == {"simulate"}
    assert services["simulate"]["profiles"] == ["demo"]
    assert services["simulate"]["command"][:2] == ["ibrain", "simulate"]


def test_the_spark_connect_image_bakes_checked_jars_at_build_time() -> None:
    dockerfile = (REPO_ROOT / "docker" / "spark-connect.Dockerfile").read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "--packages" not in cmd and "--jars" not in cmd
    pinned = dict(re.findall(r"^ARG (\w+_VERSION)=(\S+)$", dockerfile, re.MULTILINE))
    assert pinned == {"DELTA_VERSION": "4.4.1", "HADOOP_AWS_VERSION": "3.4.1", "AWS_SDK_VERSION": "2.24.6"}
    assert dockerfile.count('.jar"') == 4
    assert "sha256sum --check --strict" in dockerfile
    assert (REPO_ROOT / "docker" / "spark-jars.sha256").exists()
