#!/bin/sh
# Entrypoint of the seaweedfs service (docker-compose.yml).
#
# The S3 identities file is mounted read-only at $S3_CONFIG_MOUNTED and may be readable by its
# owner only (it holds every S3 key). Running as root, copy it to $S3_CONFIG, readable only by
# the user SeaweedFS runs as (the image's entrypoint drops to user 'seaweed' where it exists),
# then hand over to the image's own entrypoint with the original arguments.
set -eu

mounted="${S3_CONFIG_MOUNTED:-/run/seaweedfs/s3.json}"
config="${S3_CONFIG:-/etc/seaweedfs/s3.json}"

if [ ! -r "$mounted" ]; then
    echo "seaweedfs: cannot read the identities file $mounted:" \
        "copy docker/seaweedfs/s3.example.json to docker/seaweedfs/s3.json" >&2
    exit 1
fi

mkdir -p "$(dirname "$config")"
if [ "$(id -u)" = 0 ] && id seaweed >/dev/null 2>&1; then
    install -m 0400 -o seaweed "$mounted" "$config"
else
    install -m 0400 "$mounted" "$config"
fi

if [ -x /entrypoint.sh ]; then
    exec /entrypoint.sh "$@"
fi
exec weed "$@"
