# One image for the five services and the CLI; docker-compose.yml gives each its command.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY bin ./bin
COPY scenarios ./scenarios
COPY test/fixtures ./test/fixtures
RUN npm run build
ENV VSVA_REDIS_URL=redis://redis:6379
CMD ["node", "bin/vsva-sim.js", "--help"]
