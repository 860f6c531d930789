// Bearer-token authentication with scopes. Tokens come from configuration only and never reach the logs
// (the logger redacts the authorization header).
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** admin: permanent deletion (gc). */
export type Scope = 'read' | 'write' | 'admin';

export interface ApiToken {
  name: string;
  digest: Buffer;
  scopes: Set<Scope>;
}

/** RUNSTREAM_API_TOKENS = "name:token:read+write,name2:token2:read,ops:token3:admin" */
export function parseTokens(raw: string): ApiToken[] {
  if (raw.trim() === '') return [];
  return raw.split(',').map((entry, i) => {
    const parts = entry.trim().split(':');
    if (parts.length !== 3) throw new Error(`entry ${i + 1} must be name:token:scopes`);
    const [name, token, scopes] = parts as [string, string, string];
    if (token.length < 16) throw new Error(`token "${name}" is shorter than 16 characters`);
    const set = new Set<Scope>();
    for (const s of scopes.split('+')) {
      if (s !== 'read' && s !== 'write' && s !== 'admin') throw new Error(`token "${name}" has unknown scope ${JSON.stringify(s)} (read, write, admin)`);
      set.add(s);
    }
    return { name, digest: sha256(token), scopes: set };
  });
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function authenticate(tokens: ApiToken[], header: string | undefined): ApiToken | undefined {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!m) return undefined;
  const digest = sha256(m[1]!);
  // Compare digests in constant time; check every token so timing does not reveal which matched.
  let found: ApiToken | undefined;
  for (const t of tokens) if (timingSafeEqual(t.digest, digest)) found = t;
  return found;
}

export type ErrorBody = (code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', message: string) => object;

export const nativeErrorBody: ErrorBody = (code, message) => ({ error: { code, message } });
/** MLflow clients expect { error_code, message }. */
export const mlflowErrorBody: ErrorBody = (code, message) => ({ error_code: code, message });

/** A preHandler that requires `scope` when tokens are configured. */
export function requireScope(tokens: ApiToken[], scope: Scope, body: ErrorBody = nativeErrorBody) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (tokens.length === 0) return;
    const token = authenticate(tokens, req.headers.authorization);
    if (!token) return reply.code(401).header('www-authenticate', 'Bearer').send(body('UNAUTHENTICATED', 'a valid bearer token is required'));
    if (!token.scopes.has(scope)) return reply.code(403).send(body('PERMISSION_DENIED', `token "${token.name}" lacks the ${scope} scope`));
  };
}

/** Who made a request, for the audit trail: the token's name ('' when the API is open). */
export function actorOf(tokens: ApiToken[], req: FastifyRequest): string {
  return tokens.length === 0 ? '' : (authenticate(tokens, req.headers.authorization)?.name ?? '');
}
