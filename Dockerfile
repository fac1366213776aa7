# syntax=docker/dockerfile:1
# bosun: one image for the scheduler, the worker and `bosun migrate` (the Kubernetes manifests pick the command).

# 1. build: all dependencies, compile TypeScript.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency (Node 24 for npm scripts on older machines) is not needed here: the image is Node 24.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
# The image's own node (node_modules/.bin/node is the `node` package's shim, not installed with --ignore-scripts).
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# 2. production dependencies only.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# 3. runtime: compiled code, production node_modules, migrations; runs as the image's non-root `node` user (uid 1000).
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root migrations ./migrations
USER 1000:1000
EXPOSE 3000
# Kubernetes probes: /health/live, /health/ready, /health/startup; metrics at /metrics.
CMD ["node", "dist/apps/worker/main.js"]
