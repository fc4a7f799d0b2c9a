# syntax=docker/dockerfile:1
# melody-vocals service image: one image for the API (default command) and the worker
# (`node dist/src/main.js worker`). Three stages: dependencies, TypeScript build, slim runtime.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: every dependency, dev ones included (the build needs TypeScript). ---------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script compiles sources that are not copied yet (the build stage
# compiles them), and no other install script is needed to build.
RUN npm ci --ignore-scripts --no-audit --no-fund

# --- build: compile to dist/ --------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY migrations ./migrations
COPY bench ./bench
# The benchmarks (part of the build project) import the deterministic signal generator from here.
COPY test/support ./test/support
# The web app (built into dist/web by the same `npm run build`; the API serves it at /).
COPY web ./web
RUN npm run build

# --- runtime: production dependencies and the compiled service only, as a non-root user. --------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0 \
    STORAGE_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips `prepare` (nothing to compile here: dist/ comes from the build stage) and
# the ffmpeg package's own install script (`chmod u+x`, for the installing user only): the binary is
# made executable for every user here, since the service runs as `node`, and tried once.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && chmod 0755 node_modules/@ffmpeg-installer/linux-*/ffmpeg \
    && node_modules/@ffmpeg-installer/linux-*/ffmpeg -hide_banner -version >/dev/null \
    && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/dist/scripts ./dist/scripts
COPY --from=build /app/dist/web ./dist/web
COPY bin ./bin
# Uploads and outputs. Created before VOLUME so a new named volume starts out owned by `node`.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 4000
# Liveness of the API process (the worker has no HTTP port: docker-compose.yml turns this off for it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js", "api"]
