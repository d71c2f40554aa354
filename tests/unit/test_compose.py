"""No Docker engine runs here, so check that docker-compose.yml only references what exists."""

from pathlib import Path

import yaml

from ibrain.settings import REPO_ROOT

REQUIRED_SERVICES = {
    "minio",
    "minio-init",
    "postgres",
    "spark-connect",
    "dagster-code",
    "dagster-webserver",
    "dagster-daemon",
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
