// Calls to the query service with the token the user entered (kept in localStorage, sent as a bearer token).
const TOKEN_KEY = 'runstream.token';

export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function storedToken(): string {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(signal ? { signal } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    // The native error shape, or MLflow's ({ error_code, message }).
    const body = json as { error?: { code?: string; message?: string }; error_code?: string; message?: string } | undefined;
    const code = body?.error?.code ?? body?.error_code ?? String(res.status);
    throw new ApiRequestError(res.status, code, body?.error?.message ?? body?.message ?? (text.slice(0, 200) || res.statusText));
  }
  return json as T;
}

export const enc = encodeURIComponent;
