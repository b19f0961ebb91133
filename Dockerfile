# syntax=docker/dockerfile:1
# Container image for sentry-prometheus-exporter.
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 installs production dependencies only;
# the final stage carries nothing but node, those dependencies and the compiled JavaScript.
#
# Node.js 24, the current LTS line (the exporter also runs on Node.js 22). For a reproducible build, pin the
# base by digest in the three FROM lines: node:24-bookworm-slim@sha256:<digest>, the digest as printed by
# `docker buildx imagetools inspect node:24-bookworm-slim` or `skopeo inspect docker://node:24-bookworm-slim`.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# config/ is optional in the source tree; create it (with node: the image needs no coreutils) so the final
# stage can always copy it.
RUN npm run build && node -e "require('fs').mkdirSync('config', { recursive: true })"

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="sentry-prometheus-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Sentry: polls the Sentry Web API in the background and serves issue and event metrics instantly." \
      org.opencontainers.image.licenses="MIT"
# Two malloc arenas for the process's threads, and large buffers (answers from Sentry) always mapped on their
# own, so that their memory goes back to the system when they are freed (see docs/performance.md).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    SENTRY_EXPORTER_PORT=9790
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist/src ./dist/src
COPY --from=build --chown=0:0 /app/config ./config
COPY --chown=0:0 package.json ./
# Files stay owned by root and read-only for the process: it runs as the unprivileged `node` user (uid 1000).
USER 1000:1000
EXPOSE 9790
# The slim image has neither curl nor wget: node itself probes /livez. /livez answers as soon as the
# process listens, so no --start-period is needed (dockerfilelint 1.8 also misparses that flag).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SENTRY_EXPORTER_PORT||9790)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (the exporter shuts down cleanly and exits 0). The
# flags keep memory small and steady (src/node-flags.ts); NODE_OPTIONS stays free for the user's own.
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=20", "--optimize-for-size", "--liftoff-only", "dist/src/main.js"]
