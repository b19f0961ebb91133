#!/usr/bin/env bash
# `npm run image`: builds the container image from the Dockerfile with docker when a Docker engine answers,
# else with podman (with `--format docker`, so the image keeps its HEALTHCHECK).
#
#   npm run image                                   sentry-prometheus-exporter:<version of package.json>
#   IMAGE=registry.example.com/monitoring/sentry-prometheus-exporter:0.1.0 npm run image
#   CONTAINER_ENGINE=podman npm run image -- --build-arg HTTPS_PROXY=...    extra arguments go to `build`
#
# CONTAINER_ENGINE picks the tool (docker or podman) and may carry its global options, e.g.
# CONTAINER_ENGINE="podman --cgroup-manager cgroupfs".
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p "require('./package.json').version")
image=${IMAGE:-sentry-prometheus-exporter:$version}

if [[ -n ${CONTAINER_ENGINE:-} ]]; then
  read -ra engine <<<"$CONTAINER_ENGINE"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=(docker)
elif command -v podman >/dev/null 2>&1; then
  engine=(podman)
else
  echo "npm run image: needs docker (with a running Docker engine) or podman; neither is usable here" >&2
  exit 1
fi

format=()
case ${engine[0]##*/} in
  podman | buildah) format=(--format docker) ;; # OCI images have no HEALTHCHECK
esac

echo "building $image with ${engine[*]}" >&2
"${engine[@]}" build "${format[@]}" -t "$image" "$@" .
echo "built $image
push it to your registry:  ${engine[0]} push $image
then install the chart with --set image.registry=... --set image.repository=... --set image.tag=..." >&2
