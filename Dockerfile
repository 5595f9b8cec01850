# One image for both roles: docker-compose.yml runs it as the worker and as the API.
# tsx is a runtime dependency, so the TypeScript sources run as they are and --omit=dev is enough.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Everything else the processes import; .dockerignore keeps tests, data and node_modules out.
COPY . .
USER node
# The API by default; the worker service overrides the command.
CMD ["node", "--import", "tsx", "api/main.ts"]
