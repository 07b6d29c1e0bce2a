# mms worker image. Built by docker-compose.yml (service `worker`), or by hand:
#   docker build -t mms .
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci`; if the lock file lacks other platforms' optional packages (it does
# when made against a registry mirror that does not serve them), `npm install`.
RUN npm ci --no-audit --no-fund \
  || (echo 'npm ci refused the lock file; using npm install --no-save' && npm install --no-audit --no-fund --no-save)
COPY . .
RUN npm run build
RUN test -f dist/src/client/cli/main.js || (echo 'npm run build did not produce dist/src/client/cli/main.js' >&2 && exit 1)
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The workflow code bundled by `npm run build`, so a worker never bundles (webpack would cost it ~150 MB).
COPY --from=build /app/.mms/cache ./.mms/cache
# glibc serves a freed 10 MB buffer's size from its heap from then on, and keeps what it frees there:
# a fixed mmap threshold returns big buffers to the system at once (worker peak RSS 15–60 MB lower).
ENV MALLOC_MMAP_THRESHOLD_=131072
USER node
CMD ["node", "dist/src/client/cli/main.js", "worker"]
