// MLflow's artifact proxy API (mlflow-artifacts:/ URIs) on a local directory: what autolog needs to log plots and
// files next to its metrics. Paths are confined to the artifact root; uploads stream to disk.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid, MlflowError, notFound } from './mlflow-errors.ts';

export interface ArtifactDeps {
  root: string;
  readScope: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  writeScope: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  maxUploadBytes: number;
}

const BASE = '/api/2.0/mlflow-artifacts/artifacts';

/** The file a request path names, or a 400 if it would leave the root. */
export function artifactPath(root: string, relative: string): string {
  // Fastify has already URL-decoded the path. Refuse rather than normalise away anything that climbs.
  const segments = relative.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\')) || relative.includes('\0')) {
    throw invalid(`invalid artifact path ${JSON.stringify(relative)}`);
  }
  const full = resolve(root, ...segments);
  if (full !== resolve(root) && !full.startsWith(resolve(root) + sep)) throw invalid(`invalid artifact path ${JSON.stringify(relative)}`);
  return full;
}

const ARTIFACTS_SCHEME = 'mlflow-artifacts:/';

/**
 * The files directly under `relative` inside an artifact URI of this store (mlflow-artifacts:/…), with paths
 * relative to the URI as MLflow's artifacts/list answers them; [] for a missing directory or another store's URI.
 */
export async function listArtifactsUnder(root: string, uri: string, relative: string): Promise<{ path: string; is_dir: boolean; file_size?: number }[]> {
  if (!uri.startsWith(ARTIFACTS_SCHEME)) return [];
  const rel = relative.replace(/^\/+|\/+$/g, '');
  const dir = artifactPath(root, [uri.slice(ARTIFACTS_SCHEME.length), rel].filter((s) => s !== '').join('/'));
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = await Promise.all(
    entries.map(async (e) => ({
      path: rel ? `${rel}/${e.name}` : e.name,
      is_dir: e.isDirectory(),
      ...(e.isDirectory() ? {} : { file_size: (await stat(join(dir, e.name))).size }),
    })),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function registerArtifactRoutes(app: FastifyInstance, deps: ArtifactDeps): void {
  // Artifacts are arbitrary bytes: hand every content type to the handler as a stream.
  app.addContentTypeParser('*', { bodyLimit: deps.maxUploadBytes }, (_req, payload, done) => done(null, payload));

  app.put<{ Params: { '*': string } }>(`${BASE}/*`, { preHandler: deps.writeScope, bodyLimit: deps.maxUploadBytes, schema: { hide: true } }, async (req) => {
    const file = artifactPath(deps.root, req.params['*']);
    await mkdir(dirname(file), { recursive: true });
    await pipeline(req.body as Readable, createWriteStream(file));
    return {};
  });

  app.get<{ Params: { '*': string } }>(`${BASE}/*`, { preHandler: deps.readScope, schema: { hide: true } }, async (req, reply) => {
    const file = artifactPath(deps.root, req.params['*']);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw notFound(`artifact ${req.params['*']} does not exist`);
    return reply.type('application/octet-stream').header('content-length', info.size).send(createReadStream(file));
  });

  app.get<{ Querystring: { path?: string } }>(BASE, { preHandler: deps.readScope, schema: { hide: true } }, async (req) => {
    const rel = req.query.path ?? '';
    const dir = artifactPath(deps.root, rel);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files = await Promise.all(
      entries.map(async (e) => ({
        path: e.name,
        is_dir: e.isDirectory(),
        ...(e.isDirectory() ? {} : { file_size: (await stat(join(dir, e.name))).size }),
      })),
    );
    return { files };
  });

  app.delete<{ Params: { '*': string } }>(`${BASE}/*`, { preHandler: deps.writeScope, schema: { hide: true } }, async (req) => {
    const file = artifactPath(deps.root, req.params['*']);
    if (file === resolve(deps.root)) throw new MlflowError('INVALID_PARAMETER_VALUE', 'refusing to delete the artifact root');
    await rm(file, { recursive: true, force: true });
    return {};
  });
}
