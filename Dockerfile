FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Owned by node so a named volume mounted here (the reports one in docker-compose.yml) is writable.
RUN mkdir -p /var/lib/cspm/reports && chown node:node /var/lib/cspm/reports
# The scan spool (SCAN_SPOOL_DIR): created here so a volume mounted on it belongs to the app user.
RUN mkdir -p /var/lib/cspm/scan-spool && chown node:node /var/lib/cspm/scan-spool
USER node
EXPOSE 8080
# V8 flags of an API process: src/config/api-node-flags.ts says why.
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
