// Serves the web UI under /ui/: one HTML shell, the browser code bundled by esbuild from ./web on first request
// (held in memory, so `npm start` and the tests need no build step), and a stylesheet. Assets need no token: all data
// comes from the token-protected API, called by the page with the token the user entered.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import type { FastifyInstance } from 'fastify';

const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));
const PAGES = ['runs', 'compare', 'ranks', 'models', 'data', 'monitors'] as const;

interface Bundle { js: string; css: string; html: string }

let bundle: Promise<Bundle> | undefined;

async function buildBundle(): Promise<Bundle> {
  let out;
  try {
    out = await build({
      entryPoints: [`${WEB_DIR}main.ts`],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
  } finally {
    // esbuild keeps a helper process for further builds; there are none.
    await stop();
  }
  const [js] = out.outputFiles;
  const [css, html] = await Promise.all([readFile(`${WEB_DIR}app.css`, 'utf8'), readFile(`${WEB_DIR}index.html`, 'utf8')]);
  return { js: js!.text, css, html };
}

/** The bundle, built once per process; a failed build is retried on the next request. */
function uiBundle(): Promise<Bundle> {
  bundle ??= buildBundle().catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

export function registerUiRoutes(app: FastifyInstance): void {
  const hide = { schema: { hide: true } };
  app.get('/ui', hide, async (_req, reply) => reply.redirect('/ui/runs'));
  app.get('/ui/', hide, async (_req, reply) => reply.redirect('/ui/runs'));
  for (const page of PAGES) {
    app.get(`/ui/${page}`, hide, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send((await uiBundle()).html));
  }
  app.get('/ui/assets/app.js', hide, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send((await uiBundle()).js));
  app.get('/ui/assets/app.css', hide, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send((await uiBundle()).css));
}
