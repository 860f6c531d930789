// Which ClickHouse failures are worth retrying. Everything else (bad SQL, missing table, no privilege) will not
// fix itself and must stop the caller loudly.

const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

// Server error codes: timeouts, overload, too many parts, memory pressure, network trouble inside the cluster, and
// 216 (a query with the same id is still running: an earlier attempt of the same insert, to be waited for).
const TRANSIENT_SERVER_CODES = new Set([3, 159, 164, 202, 203, 209, 210, 216, 241, 242, 252, 285, 319, 425, 999, 1000]);

export function isTransientClickHouseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string | number; cause?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  // The client parses the code out of current servers' messages; 18.16 words them differently ("Code: 252,
  // e.displayText() = …"), so the message is read too.
  const fromMessage = /^Code: (\d+)[,.]/.exec(e.message)?.[1];
  const serverCode =
    typeof e.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : typeof e.code === 'number' ? e.code : fromMessage !== undefined ? Number(fromMessage) : undefined;
  if (serverCode !== undefined) return TRANSIENT_SERVER_CODES.has(serverCode);
  if (/timeout|socket hang up|ECONNRESET|ECONNREFUSED|other side closed/i.test(e.message)) return true;
  return e.cause !== undefined && isTransientClickHouseError(e.cause);
}
