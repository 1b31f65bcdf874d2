# Build stage: full install (TypeScript), compile to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY migrations migrations
COPY workers workers
COPY bench bench
COPY clients/studio clients/studio
RUN npm run build

# Runtime stage: production dependencies, compiled code, the SDL and the model packs.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Local data (secrets, images, identity banks; the embedded database without DATABASE_URL).
# /app stays root's and read-only to the app; /data is the one folder it writes, made here and
# given to `node` before USER, so a named volume mounted there starts out owned by it.
ENV STORYFORGE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist dist
COPY schema schema
COPY models/packs models/packs
# GraphiQL's start script is served from the sources (plain JavaScript, not compiled).
COPY src/api/graphiql/start-graphiql.js src/api/graphiql/start-graphiql.js
USER node
EXPOSE 4000
# SIGTERM from `docker stop` drains HTTP and WebSocket clients, then closes the pool.
CMD ["node", "dist/src/main.js"]
