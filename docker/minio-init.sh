#!/bin/sh
# Create the lake bucket in MinIO (idempotent).
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing local/lake
mc anonymous set none local/lake
