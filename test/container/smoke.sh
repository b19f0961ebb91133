#!/usr/bin/env bash
# Container smoke test: needs root, podman and about 1 GB of disk. test/container/image.test.ts runs it
# within `npm test` where podman is present (and says so when it skips).
# Builds the image with `npm run image` (deploy/build-image.sh, podman with --format docker), runs it with
# --network host against the Sentry simulator (`npm run sim` on loopback), and checks that it runs Node.js 24
# as a non-root user, that /healthz turns 200, /metrics carries the metric families, the image holds no dev
# dependencies and no simulator, and that SIGTERM (podman stop) ends it with exit code 0 within 5 s.
# Prints the image size, the time to /healthz 200 and the stop time. Cleans up the container, the image and
# the build's intermediate images; KEEP_IMAGE=1 keeps the image.
#
# usage: test/container/smoke.sh            (from anywhere; works on the repository it lives in)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
tools=${SHARED_TOOLS:-$repo/../shared/tools}
image=${IMAGE:-localhost/sentry-prometheus-exporter:smoke}
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
podman=(podman --cgroup-manager cgroupfs)
ctr=""
sim_pid=""
workdir=$(mktemp -d)

log() { printf '[smoke] %s\n' "$*"; }
die() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  if [[ -n $ctr ]]; then
    if ((rc != 0)); then
      log "container logs (last 40 lines):"
      "${podman[@]}" logs --tail 40 "$ctr" 2>&1 | sed 's/^/    /' || true
    fi
    "${podman[@]}" --runtime runc rm -f "$ctr" >/dev/null 2>&1 || true
  fi
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  if [[ ${KEEP_IMAGE:-0} != 1 ]]; then
    "${podman[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  fi
  # The build stages this build committed (untagged images), by the ids its log printed.
  if [[ -f $workdir/build.log ]]; then
    local kept
    kept=$("${podman[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    sed -nE 's/^--> ([0-9a-f]{10,})$/\1/p' "$workdir/build.log" | while read -r id; do
      [[ -n $kept && $kept == "$id"* ]] && continue
      if "${podman[@]}" image exists "$id"; then "${podman[@]}" rmi "$id" >/dev/null 2>&1 || true; fi
    done
  fi
  rm -rf "$workdir"
  if ((rc == 0)); then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

(( EUID == 0 )) || die "run as root (podman builds here need it)"
[[ -f $repo/src/main.ts ]] || die "src/main.ts does not exist yet"
[[ -f $repo/sim/main.ts ]] || die "sim/main.ts (the simulator) does not exist yet"
command -v podman >/dev/null || die "needs podman (apt-get install podman)"
ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# The base image: present already, pulled from the registry, or (where no registry is reachable) made
# locally from a real Node.js 24 binary by the shared tools beside the repository.
base=docker.io/library/node:24-bookworm-slim
if "${podman[@]}" image exists "$base"; then
  log "base $base is present"
elif [[ -x $tools/container/make-node-base.sh ]]; then
  log "making a local $base with $tools/container/make-node-base.sh"
  "$tools/container/make-node-base.sh" "$base" >/dev/null
else
  log "pulling $base"
  "${podman[@]}" pull -q "$base" >/dev/null || die "cannot pull $base and no $tools/container/make-node-base.sh"
fi

log "building $image with npm run image"
start=$(ms)
# The images of the build's stages are removed at the end, by the ids the build prints.
(cd "$repo" && IMAGE=$image CONTAINER_ENGINE="${podman[*]}" npm run --silent image -- \
  --pull=never --isolation chroot --network host --layers=false) >"$workdir/build.log" 2>&1 \
  || { tail -n 40 "$workdir/build.log" >&2; die "image build failed"; }
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')
log "built in $(secs $(($(ms) - start))) s; image size $size"
[[ $("${podman[@]}" image inspect --format '{{json .Config.Healthcheck.Test}}' "$image") == *livez* ]] \
  || die "the image lost its HEALTHCHECK (podman builds need --format docker)"

# `npm run sim` on loopback; SIM_PORT sets the port, by default one of the system's choosing. npm execs node,
# so $sim_pid's SIGTERM reaches the simulator and ends it.
log "starting the simulator (npm run sim) on 127.0.0.1:${SIM_PORT:-(a port of its choosing)}"
(cd "$repo" && exec npm run --silent sim -- --port "${SIM_PORT:-0}" --projects 6 --issues 20) >"$workdir/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -q 'npm start' "$workdir/sim.log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$workdir/sim.log" >&2; die "simulator exited"; }
  sleep 0.2
done
sed 's/^/    sim: /' "$workdir/sim.log"
# The simulator prints its API base URL, organization slug and token; take them from its output.
field() { sed -nE "s/^ *$1: +([^ ]+).*/\1/p" "$workdir/sim.log" | head -n1; }
base_url=$(field url)
sim_org=$(field org)
sim_token=$(field token)
[[ $base_url == http://127.0.0.1:*/api/0/ && -n $sim_org && -n $sim_token ]] \
  || die "could not read URL/org/token from the simulator output"
log "simulator: base $base_url, org $sim_org"

get() { node -e "fetch(process.argv[1]).then(async r=>{process.stdout.write(await r.text());process.exit(r.status===200?0:2)},()=>process.exit(1))" "$1"; }

# The exporter gets a port that was free a moment ago (the image's HEALTHCHECK reads SENTRY_EXPORTER_PORT,
# so it cannot be 0). Another process may take it first: then the exporter stops at start-up with
# EADDRINUSE, and it is started again on another port.
for attempt in 1 2 3; do
  exp_port=${EXPORTER_PORT:-$(free_port)}
  log "running the image with --network host on port $exp_port"
  ctr=$("${podman[@]}" --runtime runc run -d --network host \
    --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 --no-healthcheck \
    --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    -e SENTRY_BASE_URL="$base_url" -e SENTRY_AUTH_TOKEN="$sim_token" -e SENTRY_EXPORTER_ORG="$sim_org" \
    -e SENTRY_EXPORTER_PORT="$exp_port" -e SENTRY_EXPORTER_HOST=127.0.0.1 -e SENTRY_POLL_INTERVAL=5 \
    -e SENTRY_SCRAPE_RATE_LIMIT_METRICS=True \
    "$image")
  log "container ${ctr:0:12}"
  url="http://127.0.0.1:$exp_port"

  code=""
  start=$(ms)
  for _ in $(seq 1 240); do
    code=$(node -e "fetch(process.argv[1]).then(r=>console.log(r.status),()=>console.log('down'))" "$url/healthz")
    [[ $code == 200 ]] && break
    [[ $("${podman[@]}" inspect --format '{{.State.Running}}' "$ctr") == true ]] || break
    sleep 0.5
  done
  [[ $code == 200 ]] && break
  if [[ -z ${EXPORTER_PORT:-} ]] && ((attempt < 3)) && "${podman[@]}" logs "$ctr" 2>&1 | grep -q EADDRINUSE; then
    log "port $exp_port was taken before the exporter bound it; trying another"
    "${podman[@]}" --runtime runc rm -f "$ctr" >/dev/null 2>&1 || true
    ctr=""
    continue
  fi
  [[ $("${podman[@]}" inspect --format '{{.State.Running}}' "$ctr") == true ]] || die "container stopped early"
  die "/healthz never answered 200 (last: $code)"
done
healthz_s=$(secs $(($(ms) - start)))
log "/healthz is 200 after $healthz_s s (from podman run)"
get "$url/livez" >/dev/null || die "/livez is not 200"
log "/livez is 200"

# /healthz turns 200 once the project list and one collector are in; the other families follow as their
# collectors finish their first run (at the default 3 requests/s). Wait for all of them.
families=(sentry_issues_bucket sentry_issues_gcount sentry_open_issue_events sentry_events_total
  sentry_rate_limit_events_sec sentry_monitor_status sentry_exporter_up)
missing=()
for _ in $(seq 1 360); do
  get "$url/metrics" >"$workdir/metrics.txt" || die "/metrics is not 200"
  missing=()
  for family in "${families[@]}"; do grep -q "^$family[{ ]" "$workdir/metrics.txt" || missing+=("$family"); done
  ((${#missing[@]} == 0)) && grep -q '^sentry_exporter_up 1' "$workdir/metrics.txt" && break
  sleep 0.5
done
((${#missing[@]} == 0)) || die "/metrics has no series of ${missing[*]}"
log "every family after $(secs $(($(ms) - start))) s (from podman run)"
for family in "${families[@]}"; do
  log "/metrics: $family has $(grep -c "^$family[{ ]" "$workdir/metrics.txt") series"
done
grep -q '^sentry_exporter_up 1' "$workdir/metrics.txt" || die "sentry_exporter_up is not 1"

# The image's own HEALTHCHECK command, run inside the container (podman run used --no-healthcheck).
hc=$("${podman[@]}" image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")
mapfile -t hc_cmd < <(node -e 'const t=JSON.parse(process.argv[1]); if (t[0]!=="CMD") process.exit(1); for (const a of t.slice(1)) console.log(a)' "$hc") \
  || die "the image has no exec-form HEALTHCHECK: $hc"
"${podman[@]}" exec "$ctr" "${hc_cmd[@]}" || die "the HEALTHCHECK command fails"
log "HEALTHCHECK command (${hc_cmd[*]:0:2} ...) exits 0"

# Production dependencies only: the dev tools are not in the image.
for dev in typescript tsx eslint; do
  if "${podman[@]}" exec "$ctr" node -e "require.resolve('$dev/package.json')" >/dev/null 2>&1; then
    die "dev dependency $dev is in the image"
  fi
done
log "no dev dependencies (typescript, tsx, eslint) in the image"

# The test tooling stays out of the image: no simulator, no tests, nothing but the compiled src/.
"${podman[@]}" exec "$ctr" node -e "
  const fs = require('fs');
  for (const p of ['/app/sim', '/app/test', '/app/dist/sim', '/app/dist/test', '/app/src'])
    if (fs.existsSync(p)) { console.error(p + ' is in the image'); process.exit(1); }
  if (!fs.existsSync('/app/dist/src/main.js')) { console.error('no /app/dist/src/main.js'); process.exit(1); }
" || die "the image holds more than the compiled exporter"
log "no simulator, tests or TypeScript sources in the image"

node_version=$("${podman[@]}" exec "$ctr" node --version)
[[ $node_version == v24.* ]] || die "the image runs Node.js $node_version, want 24"
log "the image runs Node.js $node_version"

# The exporter's own process (PID 1 in the container), not only what podman exec runs as.
uid=$("${podman[@]}" exec "$ctr" node -e "console.log(/^Uid:\s+(\d+)/m.exec(require('fs').readFileSync('/proc/1/status','utf8'))[1])")
[[ $uid =~ ^[0-9]+$ && $uid != 0 ]] || die "the exporter process runs as uid '$uid'"
log "the exporter process (PID 1) runs as uid $uid (image User: $("${podman[@]}" image inspect --format '{{.Config.User}}' "$image"))"

start=$(ms)
"${podman[@]}" --runtime runc stop -t 5 "$ctr" >/dev/null
stop_s=$(secs $(($(ms) - start)))
exit_code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$ctr")
log "stopped with SIGTERM in $stop_s s, exit code $exit_code"
# podman stop -t 5 sends SIGKILL after 5 s (exit code 137): 0 means the exporter ended by itself in time.
[[ $exit_code == 0 ]] || die "exit code after SIGTERM is $exit_code, want 0 (within 5 s)"
"${podman[@]}" logs "$ctr" 2>&1 | grep -qF -- "$sim_token" && die "the token appears in the logs"
log "the token does not appear in the container logs"
log "summary: image $size, Node.js $node_version, uid $uid, /healthz 200 after $healthz_s s, SIGTERM: exit $exit_code after $stop_s s"
