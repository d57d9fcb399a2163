# rollout-medic: one image for the receiver (`serve`) and the remediation Jobs (`run`).
# docker build -t ghcr.io/rollout-medic/rollout-medic:0.1.0 .

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY tools ./tools
COPY bench ./bench
COPY prompts ./prompts
COPY scripts/bundle-cli.mjs ./scripts/bundle-cli.mjs
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20.20-bookworm-slim
# git clones and pushes the repository to fix; ca-certificates for HTTPS to the forge and the model.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prompts ./prompts
# The uid the Kubernetes manifests run as (runAsUser 65532, runAsNonRoot); nothing here is writable by it.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/bundle/rollout-medic.mjs"]
CMD ["--help"]
