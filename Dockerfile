# syntax=docker/dockerfile:1
#
# aisre container image.
#
#   docker build -t aisre .
#   docker run -d --name aisre -p 3000:3000 -v aisre-data:/data \
#     -e ALERTMANAGER_TOKEN=... -e SLACK_BOT_TOKEN=xoxb-... -e SLACK_SIGNING_SECRET=... \
#     -e SLACK_INCIDENTS_CHANNEL=C0123ABCD \
#     --stop-timeout 30 aisre
#
# Signals: node runs as PID 1 and aisre installs its own SIGTERM/SIGINT handlers (drain HTTP,
# stop the outbox, close the database), so `docker stop` shuts it down cleanly without an init
# process; aisre spawns no child processes, so there are no zombies to reap. `docker run --init`
# (tini) is optional and harmless. Graceful shutdown can take a little over 10 s (the HTTP drain
# alone waits up to 10 s), which is also Docker's default stop timeout: give it
# `--stop-timeout 30` (Compose: `stop_grace_period: 30s`) so it is not SIGKILLed mid-drain.
#
# Database: without DATABASE_URL aisre uses embedded PGlite in AISRE_DATA_DIR=/data. Mount a
# volume there; a host bind mount must be writable by uid 1000 (the `node` user). Only one
# container may use the volume at a time: the lock file records the holder's host name and is
# refreshed every 5 s, so a second container refuses to start while the first runs (and takes
# over 20 s after it died). Deploy stop-first (Recreate). For more than one replica use
# PostgreSQL (DATABASE_URL=postgres://...); the volume is then unused.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full dependency tree, compile TypeScript to dist/ ----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# tsconfig.build.json compiles src/ and migrations/ only: dist/src/** and dist/migrations/*.js
# (src/db/migrations.ts loads the latter at runtime from ../../migrations).
RUN npm run build

# ---- prod-deps: production dependencies only --------------------------------------------------
# No production dependency has an install script, so --ignore-scripts changes nothing but
# guarantees nothing runs at install time.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    AISRE_DATA_DIR=/data \
    AISRE_RUNBOOKS_DIR=/app/runbooks
WORKDIR /app

# Application files stay owned by root: the service can read but not modify its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Diagnosis trees, read at startup from AISRE_RUNBOOKS_DIR (mount your own over it to customise).
COPY runbooks ./runbooks

# The embedded PGlite database lives here. Create and chown it before VOLUME so a fresh named
# volume is initialised with this ownership.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]

USER node
EXPOSE 3000

# Liveness via node's built-in fetch (slim images have no curl). It follows PORT and HOST;
# /healthz answers 503 while aisre drains during shutdown.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const h=process.env.HOST;const host=!h||h==='0.0.0.0'||h==='::'?'127.0.0.1':h.includes(':')?'['+h+']':h;fetch('http://'+host+':'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli/main.js", "serve"]
