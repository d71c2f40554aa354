"""deploy/k8s: valid Kubernetes objects (offline, kubernetes-validate's 1.33 schemas, strict) and
consistent with the settings the code reads (tests/support/deployment.py)."""

from __future__ import annotations

import copy
import json

import kubernetes_validate
import pytest
import yaml

from ibrain.settings import REPO_ROOT
from tests.support.deployment import SECRETS, check_k8s, code_variables, load_k8s

BASE = REPO_ROOT / "deploy" / "k8s" / "base"
KUBERNETES = "1.33.0"


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return load_k8s(BASE)


def find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def container(doc: dict, name: str) -> dict:
    return next(c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def test_every_object_validates_against_the_kubernetes_schemas(docs: list[dict]) -> None:
    kinds = set()
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        kinds.add(doc["kind"])
    # kustomization.yaml is kustomize's, not a Kubernetes object: not validated, its files are loaded
    assert {"Deployment", "StatefulSet", "Job", "Service", "Role", "NetworkPolicy", "Ingress"} <= kinds
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}


def test_the_worker_pod_template_is_a_valid_pod_template(docs: list[dict]) -> None:
    template = json.loads(find(docs, "ConfigMap", "sail-worker-template")["data"]["worker-pod-template.json"])
    pod_template = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "w"},
        "template": template,
    }
    kubernetes_validate.validate(pod_template, KUBERNETES, strict=True)
    bad = copy.deepcopy(pod_template)
    bad["template"]["spec"]["containers"][0]["evn"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES, strict=True)


def test_no_secret_is_committed(docs: list[dict]) -> None:
    assert not [d for d in docs if d["kind"] == "Secret"]
    readme = (REPO_ROOT / "deploy" / "k8s" / "README.md").read_text(encoding="utf-8")
    assert [name for name in SECRETS if f"`{name}`" not in readme] == []


def test_manifests_agree_with_the_code(docs: list[dict]) -> None:
    names, prefixes = code_variables()
    assert {"IBRAIN_LAKE_ROOT", "IBRAIN_DB_URL", "IBRAIN_MASKING_KEY_FILE", "SPARK_REMOTE"} <= names
    assert "IBRAIN_DELIVERY_URL_" in prefixes
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert check_k8s(docs, compose) == []


def test_a_wrong_port_is_named(docs: list[dict]) -> None:
    broken = copy.deepcopy(docs)
    find(broken, "Service", "sail-spark-server")["spec"]["ports"][0]["port"] = 15003
    problems = check_k8s(broken)
    assert "Service/sail-spark-server: port 15003 differs from its pods' port [15002]" in problems
    assert any(
        "SPARK_REMOTE: port 15002 of 'sail-spark-server' is not a port of the Service" in p for p in problems
    )

    broken = copy.deepcopy(docs)
    serve = container(find(broken, "Deployment", "ibrain-data-service"), "serve")
    serve["command"][-1] = "8080"
    assert check_k8s(broken) == [
        "Deployment/ibrain-data-service container serve: listens on 8080 but declares containerPorts [8000]"
    ]


def test_a_missing_or_unknown_variable_is_named(docs: list[dict]) -> None:
    broken = copy.deepcopy(docs)
    serve = container(find(broken, "Deployment", "ibrain-data-service"), "serve")
    serve["env"] = [e for e in serve["env"] if e["name"] != "IBRAIN_MASKING_KEY_FILE"]
    assert check_k8s(broken) == [
        "Deployment/ibrain-data-service container serve: IBRAIN_MASKING_KEY_FILE is missing (serve needs it)"
    ]

    broken = copy.deepcopy(docs)
    find(broken, "ConfigMap", "ibrain-env")["data"]["IBRAIN_LAKE_ROT"] = "s3://lake/ibrain"
    assert "ConfigMap/ibrain-env: IBRAIN_LAKE_ROT is not read by the code" in check_k8s(broken)


def test_data_service_credentials_and_network_labels_are_checked(docs: list[dict]) -> None:
    broken = copy.deepcopy(docs)
    serve = container(find(broken, "Deployment", "ibrain-data-service"), "serve")
    for item in serve["env"]:
        if item["name"].startswith("AWS_") and "valueFrom" in item and "secretKeyRef" in item["valueFrom"]:
            item["valueFrom"]["secretKeyRef"]["name"] = "ibrain-lake-rw"
    assert check_k8s(broken) == [
        "Deployment/ibrain-data-service container serve: the data service must use the read-only lake "
        "credentials (ibrain-lake-ro)"
    ]

    broken = copy.deepcopy(docs)
    del find(broken, "Deployment", "dagster-code")["spec"]["template"]["metadata"]["labels"][
        "ibrain.io/spark-client"
    ]
    assert check_k8s(broken) == [
        "Deployment/dagster-code container code: reads SPARK_REMOTE but its pod lacks the label "
        'ibrain.io/spark-client="true"'
    ]


def test_spark_connect_and_postgres_admit_only_their_clients(docs: list[dict]) -> None:
    spark = find(docs, "NetworkPolicy", "spark-connect")["spec"]
    assert spark["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"ibrain.io/spark-client": "true"}}}],
         "ports": [{"protocol": "TCP", "port": 15002}]}
    ]  # fmt: skip
    postgres = find(docs, "NetworkPolicy", "postgres")["spec"]
    assert postgres["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"ibrain.io/db-client": "true"}}}
    ]
    assert find(docs, "NetworkPolicy", "default-deny-ingress")["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
    }
    spark_clients = {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] in {"Deployment", "StatefulSet", "Job"}
        and d["spec"]["template"]["metadata"]["labels"].get("ibrain.io/spark-client") == "true"
    }
    assert spark_clients == {"dagster-code"}  # and the run pods, labelled by the run launcher
    role = find(docs, "Role", "sail-spark-server")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["get", "list", "watch", "create", "delete", "deletecollection"],
        }
    ]
