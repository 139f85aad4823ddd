# syntax=docker/dockerfile:1
#
# PinFi: one image for the operator, the scheduler plugin (kube-scheduler extender and admission
# webhook) and the CLI. The entrypoint is node; the first argument names the program:
#
#   docker build -t pinfi:dev .
#   docker run --rm pinfi:dev                                           # the operator (--help for its flags)
#   docker run --rm pinfi:dev /app/dist/scheduler-plugin/main.js --help # the scheduler plugin
#   docker run --rm pinfi:dev /app/dist/cli/main.js --help              # the CLI
#
# The Helm chart (charts/pinfi) passes the program as the first of the container's args.
# test/chart/image.int.test.ts checks this file and runs every program from a production-only
# install laid out as below.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# ---- build: TypeScript to JavaScript ------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change reuses this layer. Install scripts are not needed
# (the build uses the image's own node, not the `node` npm package).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY contracts ./contracts
COPY operator ./operator
COPY scheduler-plugin ./scheduler-plugin
COPY cli ./cli
# The contract bindings (operator/src/settlement/generated) are generated from contracts/src.
RUN npx tsx contracts/compile.ts && npx tsc -p tsconfig.build.json

# ---- production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime: distroless Node.js 24, no shell, no package manager, non-root ---------------------
FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="pinfi" \
    org.opencontainers.image.description="PinFi: an automated market maker for GPU time on Kubernetes" \
    org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
# package.json carries "type": "module": the compiled files are ES modules.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The distroless "nonroot" user, numeric so Kubernetes can verify runAsNonRoot.
USER 65532:65532
# operator HTTP (metrics, probes, /quote), extender, admission webhook
EXPOSE 8080 8888 9443
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["/app/dist/operator/src/main.js"]
