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
RUN npm run build

# Runtime stage: production dependencies, compiled code, the SDL and the model packs.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist dist
COPY schema schema
COPY models/packs models/packs
USER node
EXPOSE 4000
# SIGTERM from `docker stop` drains HTTP and WebSocket clients, then closes the pool.
CMD ["node", "dist/src/main.js"]
