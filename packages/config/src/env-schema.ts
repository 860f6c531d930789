// Environment parsing: every service declares the variables it reads, and start-up fails once with a
// message listing every bad variable instead of dying on the first.

export type EnvSpec<T> = { [K in keyof T]: EnvVar<T[K]> };

export interface EnvVar<V> {
  name: string;
  parse: (raw: string | undefined) => V;
  secret?: boolean;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadEnv<T>(spec: EnvSpec<T>, env: NodeJS.ProcessEnv = process.env): T {
  const out = {} as T;
  const problems: string[] = [];
  for (const field of Object.keys(spec) as (keyof T)[]) {
    const v = spec[field];
    try {
      out[field] = v.parse(env[v.name]);
    } catch (err) {
      // Nested specs (a service's config embedding the shared Kafka settings) report their variables directly.
      if (err instanceof ConfigError) problems.push(...err.problems);
      else problems.push(`${v.name}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export function str(name: string, fallback?: string, opts: { secret?: boolean } = {}): EnvVar<string> {
  return {
    name,
    secret: opts.secret ?? false,
    parse: (raw) => {
      const value = raw === undefined || raw === '' ? fallback : raw;
      if (value === undefined) throw new Error('is required');
      return value;
    },
  };
}

export function int(name: string, fallback: number, min: number, max: number): EnvVar<number> {
  return {
    name,
    parse: (raw) => {
      if (raw === undefined || raw === '') return fallback;
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${raw}`);
      return n;
    },
  };
}

export function list(name: string, fallback: string[]): EnvVar<string[]> {
  return {
    name,
    parse: (raw) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw new Error('must list at least one value');
      return items;
    },
  };
}

export function url(name: string, fallback: string): EnvVar<string> {
  return {
    name,
    parse: (raw) => {
      const value = raw === undefined || raw === '' ? fallback : raw;
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        throw new Error(`must be a URL, got ${JSON.stringify(value)}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('must be an http(s) URL');
      if (parsed.username || parsed.password) throw new Error('must not embed credentials; use the *_USER / *_PASSWORD variables');
      return value.replace(/\/+$/, '');
    },
  };
}

export function oneOf<const V extends string>(name: string, values: readonly V[], fallback: V): EnvVar<V> {
  return {
    name,
    parse: (raw) => {
      if (raw === undefined || raw === '') return fallback;
      if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw as V;
    },
  };
}
