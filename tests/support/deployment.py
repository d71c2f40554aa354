# ruff: noqa: E501 (problem messages stay on one line, greppable)
"""Cross-check the deployment files (deploy/k8s, docker-compose.yml) with what the code reads.

Each check returns problem strings naming the file's object and what is wrong, so a test can
mutate a copy of a manifest and assert that the checker names the mutation.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import yaml

from ibrain.settings import REPO_ROOT

PACKAGES = ("ibrain", "ibrain_cli", "orchestration", "operations", "ingest", "transforms", "quality",
            "serving", "security", "catalog", "simulators")  # fmt: skip
OWN_VARIABLE = re.compile(r"^(IBRAIN_[A-Z0-9_]+|AWS_[A-Z_]+|SPARK_REMOTE|DAGSTER_HOME)$")
# Settings of other programs the manifests set, with where their names come from.
SAIL_VARIABLES = {  # Sail 0.7 crates/sail-common/src/config/application.yaml, key a.b → SAIL_A__B
    "SAIL_MODE", "SAIL_CLUSTER__DRIVER_LISTEN_HOST", "SAIL_CLUSTER__DRIVER_LISTEN_PORT",
    "SAIL_CLUSTER__DRIVER_EXTERNAL_HOST", "SAIL_CLUSTER__WORKER_MAX_COUNT", "SAIL_KUBERNETES__IMAGE",
    "SAIL_KUBERNETES__NAMESPACE", "SAIL_KUBERNETES__DRIVER_POD_NAME",
    "SAIL_KUBERNETES__WORKER_SERVICE_ACCOUNT_NAME", "SAIL_KUBERNETES__WORKER_POD_TEMPLATE",
}  # fmt: skip
OTHER_PROGRAMS = re.compile(r"^(POSTGRES_(USER|PASSWORD|DB)|PGDATA|MINIO_[A-Z_]+|OAUTH2_PROXY_[A-Z_]+|"
                            r"DAGSTER_CURRENT_IMAGE)$")  # fmt: skip
PROJECT_IMAGE = "industry-brain"
# What each kind of process needs (Settings.from_env refuses an S3 lake without AWS keys; an S3 lake
# needs IBRAIN_DB_URL, security/db.py; the key files outside demo, security/keys.py; dagster.yaml's
# env references are added by the caller).
PIPELINE_NEEDS = {"IBRAIN_LAKE_ROOT", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                  "AWS_ALLOW_HTTP", "SPARK_REMOTE", "IBRAIN_DBT_TARGET", "DAGSTER_HOME", "IBRAIN_DB_URL",
                  "IBRAIN_TOKEN_KEY_FILE", "IBRAIN_CHECKPOINT_KEY_FILE", "IBRAIN_MASKING_KEY_FILE"}  # fmt: skip
SERVE_NEEDS = {"IBRAIN_LAKE_ROOT", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
               "AWS_ALLOW_HTTP", "IBRAIN_DB_URL", "IBRAIN_TOKEN_KEY_FILE", "IBRAIN_MASKING_KEY_FILE"}  # fmt: skip
LAKE_INIT_NEEDS = {"IBRAIN_LAKE_ROOT", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
SAIL_NEEDS = {"SAIL_MODE", "SAIL_KUBERNETES__IMAGE", "SAIL_KUBERNETES__NAMESPACE",
              "SAIL_KUBERNETES__DRIVER_POD_NAME", "SAIL_CLUSTER__DRIVER_EXTERNAL_HOST",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"}  # fmt: skip
# The Secrets the operator creates (deploy/k8s/README.md) and their keys; none is committed.
SECRETS = {
    "ibrain-lake-rw": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "ibrain-lake-ro": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    "ibrain-state-db": {"IBRAIN_DB_URL"},
    "ibrain-postgres": {"POSTGRES_PASSWORD"},
    "ibrain-minio": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_KMS_SECRET_KEY"},
    "ibrain-keys": {"token.json", "checkpoint.json", "masking.json"},
    "ibrain-delivery-keys": set(),  # <recipient>.json and <recipient>.hmac.json, optional
    "dagster-oauth2-proxy": {
        "OAUTH2_PROXY_OIDC_ISSUER_URL",
        "OAUTH2_PROXY_CLIENT_ID",
        "OAUTH2_PROXY_CLIENT_SECRET",
        "OAUTH2_PROXY_COOKIE_SECRET",
        "OAUTH2_PROXY_EMAIL_DOMAINS",
    },
    "ibrain-tls": {"tls.crt", "tls.key"},
}


@functools.cache
def code_variables(root: Path = REPO_ROOT) -> tuple[set[str], set[str]]:
    """Names of the environment variables the code reads: string constants of the project's packages
    that look like one, and the prefixes of those built with ``.format`` (``IBRAIN_DELIVERY_URL_{}``)."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if OWN_VARIABLE.match(node.value):
                        names.add(node.value)
                    elif node.value.endswith("_{}") and OWN_VARIABLE.match(node.value[:-2] + "X"):
                        prefixes.add(node.value[:-2])
    return names, prefixes


def unknown_variable(name: str, known: tuple[set[str], set[str]]) -> bool:
    names, prefixes = known
    if name in names or name in SAIL_VARIABLES or OTHER_PROGRAMS.match(name):
        return False
    return not any(name.startswith(prefix) for prefix in prefixes)


# -- Kubernetes --------------------------------------------------------------------------------------


def load_k8s(folder: Path) -> list[dict]:
    """Every resource of the kustomization in ``folder`` (files in the order it lists them)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    docs: list[dict] = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((folder / name).read_text(encoding="utf-8")) if d]
    return docs


def name_of(doc: dict) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def pod_templates(docs: list[dict]) -> Iterator[tuple[str, dict, dict]]:
    """(owner, pod labels, pod spec) of every workload."""
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet"} or doc["kind"] == "Job":
            template = doc["spec"]["template"]
        else:
            continue
        yield name_of(doc), template["metadata"].get("labels", {}), template["spec"]


def config_maps(docs: list[dict]) -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}


def container_env(container: dict, maps: dict[str, dict[str, str]], where: str, problems: list[str]) -> dict:
    """Variable → value (a literal, ``secret:<name>/<key>`` or ``field:<path>``)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            ref = source["configMapRef"]["name"]
            if ref not in maps:
                problems.append(f"{where}: envFrom ConfigMap {ref!r} is not defined")
            env.update(maps.get(ref, {}))
        if "secretRef" in source:
            ref = source["secretRef"]["name"]
            if ref not in SECRETS:
                problems.append(f"{where}: envFrom Secret {ref!r} is not a documented Secret")
            env.update({key: f"secret:{ref}/{key}" for key in SECRETS.get(ref, ())})
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
            continue
        ref = item.get("valueFrom", {})
        if "secretKeyRef" in ref:
            secret, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
            if key not in SECRETS.get(secret, ()):
                problems.append(
                    f"{where}: {name} from Secret {secret!r} key {key!r}, which is not documented"
                )
            env[name] = f"secret:{secret}/{key}"
        elif "configMapKeyRef" in ref:
            cm, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            if key not in maps.get(cm, {}):
                problems.append(f"{where}: {name} from ConfigMap {cm!r} key {key!r}, which does not exist")
            env[name] = maps.get(cm, {}).get(key, "")
        elif "fieldRef" in ref:
            env[name] = f"field:{ref['fieldRef']['fieldPath']}"
    return env


def role_of(container: dict) -> str | None:
    command = [*container.get("command", []), *container.get("args", [])]
    text = " ".join(command)
    if text.startswith("ibrain serve"):
        return "serve"
    if text.startswith("ibrain lake init"):
        return "lake-init"
    if text.startswith("dagster code-server"):
        return "pipeline"
    if text.startswith(("dagster-webserver", "dagster-daemon")):
        return "dagster"
    if text.startswith("sail spark server"):
        return "sail"
    return None


def flag_value(command: list[str], *flags: str) -> str | None:
    for i, item in enumerate(command):
        if item in flags and i + 1 < len(command):
            return command[i + 1]
    return None


def env_references(dagster_yaml: str) -> set[str]:
    """Variables a Dagster instance file reads (``{env: NAME}``)."""
    return set(re.findall(r"\{env:\s*([A-Z_]+)\}", dagster_yaml))


def check_k8s(docs: list[dict], compose: dict | None = None) -> list[str]:
    problems: list[str] = []
    known = code_variables()
    maps = config_maps(docs)
    namespaces = {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"}
    for doc in docs:
        ns = doc["metadata"].get("namespace")
        if doc["kind"] != "Namespace" and ns not in namespaces:
            problems.append(f"{name_of(doc)}: namespace {ns!r} is not the deployment's {sorted(namespaces)}")
    for cm, data in maps.items():
        for key in data:
            if OWN_VARIABLE.match(key) and unknown_variable(key, known):
                problems.append(f"ConfigMap/{cm}: {key} is not read by the code")
    dagster_needs = env_references(maps.get("dagster-instance", {}).get("dagster.yaml", ""))
    service_accounts = {d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"}
    images: dict[str, set[str]] = {}
    ports_by_pod: list[tuple[dict, set[int], dict[str, int]]] = []
    claims = {
        name_of(d): d["spec"].get("volumeClaimTemplates", []) for d in docs if d["kind"] == "StatefulSet"
    }

    for owner, labels, spec in pod_templates(docs):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        volumes.update(
            {c["metadata"]["name"]: {"name": c["metadata"]["name"]} for c in claims.get(owner, [])}
        )
        sa = spec.get("serviceAccountName")
        if sa and sa not in service_accounts:
            problems.append(f"{owner}: service account {sa!r} is not defined")
        pod_security = spec.get("securityContext", {})
        if not pod_security.get("runAsNonRoot") or pod_security.get("seccompProfile", {}).get("type") is None:
            problems.append(f"{owner}: pod must set runAsNonRoot and a seccompProfile (restricted namespace)")
        numbers: set[int] = set()
        named: dict[str, int] = {}
        for volume in volumes.values():
            if "configMap" in volume and volume["configMap"]["name"] not in maps:
                problems.append(
                    f"{owner}: volume {volume['name']!r} names ConfigMap {volume['configMap']['name']!r}, not defined"
                )
            if "secret" in volume and volume["secret"]["secretName"] not in SECRETS:
                problems.append(f"{owner}: volume {volume['name']!r} names an undocumented Secret")
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            where = f"{owner} container {container['name']}"
            image = container["image"]
            repo, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
            if not repo or tag in {"", "latest"}:
                problems.append(f"{where}: image {image!r} is not pinned to a tag")
            images.setdefault(repo, set()).add(image)
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False or "ALL" not in security.get(
                "capabilities", {}
            ).get("drop", []):
                problems.append(
                    f"{where}: must set allowPrivilegeEscalation: false and drop ALL capabilities"
                )
            for port in container.get("ports", []):
                numbers.add(port["containerPort"])
                if "name" in port:
                    named[port["name"]] = port["containerPort"]
            mounts = container.get("volumeMounts", [])
            for mount in mounts:
                volume = volumes.get(mount["name"])
                if volume is None:
                    problems.append(
                        f"{where}: mounts volume {mount['name']!r}, which the pod does not define"
                    )
                elif (
                    "subPath" in mount
                    and "configMap" in volume
                    and mount["subPath"] not in maps.get(volume["configMap"]["name"], {})
                ):
                    problems.append(
                        f"{where}: {mount['subPath']} is not a key of ConfigMap {volume['configMap']['name']!r}"
                    )
            env = container_env(container, maps, where, problems)
            for variable in env:
                if unknown_variable(variable, known):
                    problems.append(f"{where}: {variable} is not read by the code or a known program")
            for variable, value in env.items():
                if variable.endswith(("_KEY_FILE", "_KEY_DIR")) and not any(
                    value.startswith(m["mountPath"].rstrip("/") + "/") for m in mounts
                ):
                    problems.append(f"{where}: {variable}={value} is not on a mounted volume")
            command = [*container.get("command", []), *container.get("args", [])]
            role = role_of(container)
            needs = {"pipeline": PIPELINE_NEEDS | dagster_needs, "dagster": dagster_needs | {"DAGSTER_HOME"},
                     "serve": SERVE_NEEDS, "lake-init": LAKE_INIT_NEEDS, "sail": SAIL_NEEDS}.get(role or "", set())  # fmt: skip
            for variable in sorted(needs - set(env)):
                problems.append(f"{where}: {variable} is missing ({role} needs it)")
            if (
                role in {"pipeline", "dagster"}
                and "DAGSTER_HOME" in env
                and not any(m["mountPath"] == env["DAGSTER_HOME"] for m in mounts)
            ):
                problems.append(f"{where}: DAGSTER_HOME={env['DAGSTER_HOME']} is not a mounted volume")
            if role == "serve" and not env.get("AWS_ACCESS_KEY_ID", "").startswith("secret:ibrain-lake-ro/"):
                problems.append(
                    f"{where}: the data service must use the read-only lake credentials (ibrain-lake-ro)"
                )
            if role == "pipeline" and env.get("IBRAIN_DBT_TARGET") != "spark":
                problems.append(f"{where}: IBRAIN_DBT_TARGET must be spark on a cluster")
            if role in {"serve", "sail", "pipeline"}:
                listen = flag_value(command, "--port", "-p")
                if listen is None or int(listen) not in numbers:
                    problems.append(
                        f"{where}: listens on {listen} but declares containerPorts {sorted(numbers)}"
                    )
            if role == "sail":
                if env.get("SAIL_KUBERNETES__IMAGE") != image:
                    problems.append(
                        f"{where}: SAIL_KUBERNETES__IMAGE {env.get('SAIL_KUBERNETES__IMAGE')!r} is not the server's image {image!r}"
                    )
                if env.get("SAIL_KUBERNETES__NAMESPACE") not in namespaces:
                    problems.append(f"{where}: SAIL_KUBERNETES__NAMESPACE is not the deployment's namespace")
                worker_sa = env.get("SAIL_KUBERNETES__WORKER_SERVICE_ACCOUNT_NAME")
                if worker_sa and worker_sa not in service_accounts:
                    problems.append(f"{where}: worker service account {worker_sa!r} is not defined")
                if env.get("SAIL_MODE") != "kubernetes-cluster":
                    problems.append(f"{where}: SAIL_MODE must be kubernetes-cluster")
            if role == "pipeline" and env.get("DAGSTER_CURRENT_IMAGE") != image:
                problems.append(f"{where}: DAGSTER_CURRENT_IMAGE is not the code location's image {image!r}")
            # the pods that need a protected service carry the label its NetworkPolicy admits
            for variable, label in (("SPARK_REMOTE", "ibrain.io/spark-client"),
                                    ("IBRAIN_DB_URL", "ibrain.io/db-client"),
                                    ("POSTGRES_PASSWORD", "ibrain.io/db-client"),
                                    ("AWS_ENDPOINT_URL", "ibrain.io/s3-client")):  # fmt: skip
                if variable in env and labels.get(label) != "true" and role not in {None}:
                    problems.append(f'{where}: reads {variable} but its pod lacks the label {label}="true"')
            for url_variable in ("SPARK_REMOTE", "AWS_ENDPOINT_URL"):
                if env.get(url_variable, "").startswith(("sc://", "http://", "https://")):
                    parsed = urlparse(env[url_variable])
                    problems += service_port_problems(
                        docs, f"{where}: {url_variable}", parsed.hostname, parsed.port
                    )
        ports_by_pod.append((labels, numbers, named))

    project = images.get(PROJECT_IMAGE, set())
    if len(project) != 1:
        problems.append(f"the project image is not one reference everywhere: {sorted(project)}")
    for doc in docs:
        if doc["kind"] == "Service":
            selector = doc["spec"]["selector"]
            pods = [(n, named) for labels, n, named in ports_by_pod if selector.items() <= labels.items()]
            if not pods:
                problems.append(f"{name_of(doc)}: selects no pod")
            for port in doc["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if not any(
                    (named.get(target) if isinstance(target, str) else target in n and target)
                    for n, named in pods
                ):
                    problems.append(f"{name_of(doc)}: targetPort {target} is not a containerPort of its pods")
                resolved = {named.get(target) if isinstance(target, str) else target for _, named in pods} - {
                    None
                }
                if resolved and port["port"] not in resolved:
                    problems.append(
                        f"{name_of(doc)}: port {port['port']} differs from its pods' port {sorted(resolved)}"
                    )
        if doc["kind"] == "NetworkPolicy":
            selector = doc["spec"]["podSelector"].get("matchLabels")
            for rule in doc["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    if selector and not any(
                        port["port"] in n
                        for labels, n, _ in ports_by_pod
                        if selector.items() <= labels.items()
                    ):
                        problems.append(
                            f"{name_of(doc)}: port {port['port']} is not a containerPort of the pods it selects"
                        )
        if doc["kind"] == "Ingress":
            if not doc["spec"].get("tls"):
                problems.append(f"{name_of(doc)}: no TLS")
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    problems += service_port_problems(
                        docs, name_of(doc), backend["name"], backend["port"]["number"]
                    )
        if doc["kind"] == "Role":
            resources = {r for rule in doc["rules"] for r in rule["resources"]}
            if doc["metadata"]["name"].startswith("sail") and resources != {"pods"}:
                problems.append(
                    f"{name_of(doc)}: Sail's Role must be limited to pods, has {sorted(resources)}"
                )
    workspace = yaml.safe_load(maps.get("dagster-workspace", {}).get("workspace.yaml", "load_from: []"))
    for location in workspace["load_from"]:
        grpc = location["grpc_server"]
        problems += service_port_problems(docs, "ConfigMap/dagster-workspace", grpc["host"], grpc["port"])
    instance = yaml.safe_load(maps.get("dagster-instance", {}).get("dagster.yaml", "{}")) or {}
    pg = instance.get("storage", {}).get("postgres", {}).get("postgres_db", {})
    if pg:
        problems += service_port_problems(docs, "ConfigMap/dagster-instance", pg["hostname"], pg["port"])
    if compose is not None:
        for service in compose["services"].values():
            image = service.get("image", "")
            repo = image.rpartition(":")[0]
            if repo in images and images[repo] != {image}:
                problems.append(f"image {repo}: compose uses {image}, Kubernetes {sorted(images[repo])}")
    return problems


def service_port_problems(docs: list[dict], where: str, host: str | None, port: int | None) -> list[str]:
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    if host not in services:
        return [f"{where}: host {host!r} is not a Service"]
    ports = [p["port"] for p in services[host]["spec"]["ports"]]
    if port not in ports:
        return [f"{where}: port {port} of {host!r} is not a port of the Service ({ports})"]
    return []


# -- docker compose ----------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def compose_env(service: dict, root: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    files = service.get("env_file", [])
    for file in [files] if isinstance(files, str) else files:
        env.update(read_env_file(root / (file if isinstance(file, str) else file["path"])))
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env


def compose_command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def check_compose(compose: dict, root: Path = REPO_ROOT) -> list[str]:
    problems: list[str] = []
    known = code_variables()
    services = compose["services"]
    exposed = {name: {int(p) for p in s.get("expose", [])} for name, s in services.items()}
    for name, service in services.items():
        where = f"service {name}"
        env = compose_env(service, root)
        for variable in env:
            if unknown_variable(variable, known):
                problems.append(f"{where}: {variable} is not read by the code or a known program")
        command = compose_command(service)
        text = " ".join(command)
        role = ("serve" if text.startswith("ibrain serve") else "pipeline" if text.startswith("dagster code-server")
                else "dagster" if text.startswith(("dagster-webserver", "dagster-daemon")) else None)  # fmt: skip
        needs = {"serve": SERVE_NEEDS, "pipeline": PIPELINE_NEEDS, "dagster": {"DAGSTER_HOME"}}.get(
            role or "", set()
        )
        for variable in sorted(needs - set(env)):
            problems.append(f"{where}: {variable} is missing ({role} needs it)")
        listen = flag_value(command, "--port", "-p")
        if listen is not None and int(listen) not in exposed[name]:
            problems.append(f"{where}: listens on {listen} but exposes {sorted(exposed[name])}")
        for variable in ("SPARK_REMOTE", "AWS_ENDPOINT_URL"):
            if variable in env:
                url = urlparse(env[variable])
                if url.hostname not in services:
                    problems.append(f"{where}: {variable} names host {url.hostname!r}, not a service")
                elif url.port not in exposed[url.hostname]:
                    problems.append(f"{where}: {variable} port {url.port} is not exposed by {url.hostname}")
        for mapping in service.get("ports", []):
            published = str(mapping)
            if not published.startswith("${IBRAIN_BIND:-127.0.0.1}:"):
                problems.append(f"{where}: port {published} is not bound to ${{IBRAIN_BIND:-127.0.0.1}}")
            elif int(published.rsplit(":", 1)[1]) not in exposed[name]:
                problems.append(f"{where}: publishes {published}, a port it does not expose")
        image = service.get("image")
        if image and (":" not in image or image.endswith(":latest")):
            problems.append(f"{where}: image {image!r} is not pinned")
        for key_file in ("IBRAIN_TOKEN_KEY_FILE", "IBRAIN_MASKING_KEY_FILE", "IBRAIN_CHECKPOINT_KEY_FILE"):
            if key_file in env:
                targets = [str(v).split(":")[1] for v in service.get("volumes", []) if isinstance(v, str)]
                if not any(env[key_file].startswith(t.rstrip("/") + "/") for t in targets):
                    problems.append(f"{where}: {key_file}={env[key_file]} is not on a mounted volume")
    workspace = yaml.safe_load((root / "docker" / "workspace.yaml").read_text(encoding="utf-8"))
    for location in workspace["load_from"]:
        grpc = location["grpc_server"]
        if grpc["port"] not in exposed.get(grpc["host"], set()):
            problems.append(f"docker/workspace.yaml: {grpc['host']}:{grpc['port']} is not an exposed port")
    return problems
