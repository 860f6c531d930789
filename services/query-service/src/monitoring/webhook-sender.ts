// Alert notifications to a monitor's webhook: a JSON POST with an Idempotency-Key header (the same state change
// always carries the same key, so a receiver that sees it twice — a retry, or two service instances — keeps one),
// retried with exponential backoff on network errors, 408, 429 and 5xx; other answers are final.

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export interface WebhookOptions {
  attempts: number;
  firstDelayMs: number;
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK: WebhookOptions = { attempts: 6, firstDelayMs: 250, timeoutMs: 5000 };

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export async function deliverWebhook(url: string, idempotencyKey: string, body: unknown, opts: WebhookOptions = DEFAULT_WEBHOOK): Promise<DeliveryResult> {
  let last: DeliveryResult = { delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      await res.arrayBuffer();
      if (res.ok) return { delivered: true, attempts: attempt, status: res.status };
      last = { delivered: false, attempts: attempt, status: res.status };
      if (!retryable(res.status)) return last;
    } catch (err) {
      last = { delivered: false, attempts: attempt, error: (err as Error).message };
    }
    if (attempt < opts.attempts) await new Promise((r) => setTimeout(r, opts.firstDelayMs * 2 ** (attempt - 1)));
  }
  return last;
}
