# One image for the five services, the CLI and the dashboard; docker-compose.yml builds it once and gives each service
# its command. Two stages: `build` compiles with the dev dependencies, `runtime` holds the production
# dependencies, dist/, bin/ and scenarios/ only, and runs as the unprivileged `node` user.
#
# The image's npm (10.x) does not know package.json's `allowScripts` (npm 11), so every `npm install` here
# passes --ignore-scripts: no dependency needs its install script (esbuild takes its binary from its
# platform package; msgpackr-extract, ssh2 and cpu-features have prebuilt or pure-JS fallbacks), and the
# project's own `prepare` (the build) runs as an explicit step. `npm install`, not `npm ci`: see TOOLCHAIN.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY scripts ./scripts
COPY apps ./apps
COPY libs ./libs
COPY test/fixtures ./test/fixtures
RUN node scripts/build.js --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# the CLI (bin/vsva-sim.js) imports dist/apps/cli, which imports dist/libs; services run dist/services/*.mjs
COPY --from=build /app/dist/apps ./dist/apps
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/services ./dist/services
# the dashboard's browser scripts (`vsva-sim ui`)
COPY --from=build /app/dist/ui ./dist/ui
COPY bin ./bin
COPY scenarios ./scenarios
# the only place the CLI writes (`.vsva/`: cluster state, a private Redis); the rest stays root-owned, read-only
RUN mkdir .vsva && chown node:node .vsva
USER node
ENV VSVA_REDIS_URL=redis://redis:6379
CMD ["node", "bin/vsva-sim.js", "--help"]
