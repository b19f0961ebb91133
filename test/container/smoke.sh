#!/usr/bin/env bash
# Container smoke test (not part of the default CI run: it needs root, podman and about 1 GB of disk).
# Builds the image with podman, runs it with --network host against the Sentry simulator, and checks that
# /healthz turns 200, /metrics carries the metric families, the process does not run as root, and a
# SIGTERM (podman stop) ends it with exit code 0. Cleans up the container; KEEP_IMAGE=1 keeps the image.
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
  rm -rf "$workdir"
  if ((rc == 0)); then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

(( EUID == 0 )) || die "run as root (podman builds here need it)"
[[ -f $repo/src/main.ts ]] || die "src/main.ts does not exist yet"
[[ -f $repo/sim/main.ts ]] || die "sim/main.ts (the simulator) does not exist yet"

log "making the local node:24-bookworm-slim base"
"$tools/container/make-node-base.sh" node:24-bookworm-slim >/dev/null

log "building $image"
start=$SECONDS
"${podman[@]}" build --pull=never --isolation chroot --network host --format docker --layers=false -t "$image" "$repo" \
  >"$workdir/build.log" 2>&1 || { tail -n 40 "$workdir/build.log" >&2; die "image build failed"; }
log "built in $((SECONDS - start)) s; size $("${podman[@]}" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"

# The simulator picks its own port (SIM_PORT sets one) and prints its URL, read below.
sim_args=()
[[ -n ${SIM_PORT:-} ]] && sim_args=(--port "$SIM_PORT")
log "starting the simulator on 127.0.0.1:${SIM_PORT:-(a port of its choosing)}"
# node itself (not npx) so that $sim_pid is the simulator and killing it leaves nothing behind.
(cd "$repo" && exec node --import tsx sim/main.ts "${sim_args[@]}") >"$workdir/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -qiE 'token' "$workdir/sim.log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$workdir/sim.log" >&2; die "simulator exited"; }
  sleep 0.2
done
sed 's/^/    sim: /' "$workdir/sim.log"
# The simulator prints its URL, organization slug and token; take them from its output.
sim_url=$(grep -oE 'https?://127\.0\.0\.1:[0-9]+[^ "]*' "$workdir/sim.log" | head -n1)
sim_org=$(grep -ioE '\borg(anization)?[^A-Za-z0-9]+[A-Za-z0-9_-]+' "$workdir/sim.log" | head -n1 | grep -oE '[A-Za-z0-9_-]+$' || true)
sim_token=$(grep -ioE '\btoken[^A-Za-z0-9]+[A-Za-z0-9_.-]+' "$workdir/sim.log" | head -n1 | grep -oE '[A-Za-z0-9_.-]+$' || true)
[[ -n $sim_url && -n $sim_org && -n $sim_token ]] || die "could not read URL/org/token from the simulator output"
# The exporter wants the API base (…/api/0/); the simulator may print its root or the API base.
case $sim_url in */api/0/*) base_url=$sim_url ;; */) base_url="${sim_url}api/0/" ;; *) base_url="$sim_url/api/0/" ;; esac
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
  start=$SECONDS
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
log "/healthz is 200 after $((SECONDS - start)) s"
get "$url/livez" >/dev/null || die "/livez is not 200"
log "/livez is 200"

get "$url/metrics" >"$workdir/metrics.txt" || die "/metrics is not 200"
for family in sentry_issues_bucket sentry_issues_gcount sentry_open_issue_events sentry_events_total \
  sentry_rate_limit_events_sec sentry_monitor_status sentry_exporter_up; do
  n=$(grep -c "^$family[{ ]" "$workdir/metrics.txt" || true)
  ((n > 0)) || die "/metrics has no $family series"
  log "/metrics: $family has $n series"
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

uid=$("${podman[@]}" exec "$ctr" id -u)
[[ $uid != 0 ]] || die "the process runs as root"
log "container process uid: $uid (image User: $("${podman[@]}" image inspect --format '{{.Config.User}}' "$image"))"

start=$SECONDS
"${podman[@]}" --runtime runc stop -t 5 "$ctr" >/dev/null
exit_code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$ctr")
log "stopped with SIGTERM in $((SECONDS - start)) s, exit code $exit_code"
[[ $exit_code == 0 ]] || die "exit code after SIGTERM is $exit_code, want 0"
"${podman[@]}" logs "$ctr" 2>&1 | grep -qF -- "$sim_token" && die "the token appears in the logs"
log "the token does not appear in the container logs"
