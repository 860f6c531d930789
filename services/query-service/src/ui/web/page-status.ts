// What the page exposes about itself: a status on #app (loading / ready / error) and, on window.__runstream,
// the data every chart plots and the render timings. Browser tests and users' scripts read these.
import { ApiRequestError } from './api-client.ts';
import type { HistogramChart, PlottedHistogram } from './histogram-chart.ts';
import type { Plotted, SeriesChart } from './series-chart.ts';

interface RunstreamWindow {
  charts: () => Plotted[];
  histograms: () => PlottedHistogram[];
  timings: Record<string, number>;
}

const charts = new Set<SeriesChart>();
let histograms: HistogramChart[] = [];
const timings: Record<string, number> = {};
(window as unknown as { __runstream: RunstreamWindow }).__runstream = {
  charts: () => [...charts].map((c) => c.plotted()),
  histograms: () => histograms.map((c) => c.plotted()),
  timings,
};

export function trackHistograms(list: HistogramChart[]): void {
  histograms = list;
}

export function trackCharts(list: SeriesChart[]): void {
  for (const c of charts) c.destroy();
  charts.clear();
  for (const c of list) charts.add(c);
}

export function recordTiming(name: string, ms: number): void {
  timings[name] = Math.round(ms * 10) / 10;
}

let renders = 0;

export function setStatus(status: 'loading' | 'ready' | 'error', message = ''): void {
  const app = document.getElementById('app')!;
  app.dataset.status = status;
  if (status !== 'loading') app.dataset.renders = String(++renders);
  const banner = document.getElementById('status-banner');
  if (banner) {
    banner.textContent = message;
    banner.hidden = message === '';
    banner.className = status === 'error' ? 'banner error' : 'banner';
  }
}

/** Shows an API failure; 401/403 point at the token field. */
export function showError(err: unknown): void {
  const message =
    err instanceof ApiRequestError && (err.status === 401 || err.status === 403)
      ? `${err.message} — enter an API token with the read scope above.`
      : err instanceof Error
        ? err.message
        : String(err);
  setStatus('error', message);
}
