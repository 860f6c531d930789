// The images' health check: exits 0 when the URL answers 2xx within 4 s, 1 otherwise (no curl in the slim image).
const url = process.argv[2];
if (!url) {
  console.error('usage: node http-check.ts <url>');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  if (!res.ok) console.error(`${url}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${url}: ${(err as Error).message}`);
  process.exit(1);
}
