/**
 * GraphiQL at /graphiql, served from node_modules (graphiql's UMD build on React 18): nothing
 * loads from a CDN, so it works on offline render hosts. The page's script reads the API key the
 * studio keeps in session storage and prefills the Authorization header with it; the key never
 * goes into a URL. Scripts come only from this origin (Content-Security-Policy).
 */
import { dirname, join } from 'node:path';
import express, { Router } from 'express';
import { projectRoot } from '../../util/project-root';

const asset = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);

const ASSETS: Record<string, string> = {
  'react.js': asset('react', 'umd/react.production.min.js'),
  'react-dom.js': asset('react-dom', 'umd/react-dom.production.min.js'),
  'graphiql.js': asset('graphiql', 'graphiql.min.js'),
  'graphiql.css': asset('graphiql', 'graphiql.min.css'),
  // Plain JavaScript beside this file, read from the sources (tsc does not copy it to dist).
  'start.js': join(projectRoot(), 'src', 'api', 'graphiql', 'start-graphiql.js'),
};

/** Session storage key of the studio's login (the studio and GraphiQL share it). */
export const API_KEY_STORAGE = 'storyforge.apiKey';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>StoryForge GraphiQL</title>
<link rel="stylesheet" href="/graphiql/assets/graphiql.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql" data-key-storage="${API_KEY_STORAGE}">Loading GraphiQL…</div>
<script src="/graphiql/assets/react.js"></script>
<script src="/graphiql/assets/react-dom.js"></script>
<script src="/graphiql/assets/graphiql.js"></script>
<script src="/graphiql/assets/start.js"></script>
</body>
</html>
`;

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
  "connect-src 'self'", "worker-src 'self' blob:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
].join('; ');

export function graphiqlRouter(): Router {
  const router = express.Router();
  router.get('/', (_req, res) => {
    res.set({ 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' }).type('html').send(PAGE);
  });
  router.get('/assets/:name', (req, res) => {
    const file = ASSETS[String(req.params.name)];
    if (!file) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    res.set({ 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=3600' }).sendFile(file);
  });
  return router;
}
