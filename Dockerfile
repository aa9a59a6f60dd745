# One image for every function: each Knative Service picks its function with FUNCTION_TARGET
# (knative/services/services.yaml); the gerrit-stream ContainerSource runs dist/sources/gerrit-stream/main.js.
# Build: `make image` (needs a Docker engine).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY functions ./functions
COPY shared ./shared
COPY sources ./sources
COPY config ./config
RUN npm run build

# ---- production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force

# ---- runtime: non-root, read-only root filesystem friendly (nothing is written under /app) ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8080 \
    FUNCTION_SOURCE=/app/dist/functions/index.js
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# tsc compiles only TypeScript: the status page's HTML goes beside its compiled module, which reads it.
COPY shared/status/page.html ./dist/shared/status/page.html
COPY package.json ./
COPY config ./config
# The node image's unprivileged user (uid 1000); numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# functions-framework reads FUNCTION_TARGET (set per Service), FUNCTION_SOURCE and PORT from the environment.
CMD ["node", "node_modules/@google-cloud/functions-framework/build/src/main.js"]
