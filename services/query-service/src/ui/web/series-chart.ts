// A canvas chart for many bucketed series: per series a min/max band (so a spike in a bucket is always visible)
// and a line (mean, or the smoothed mean). Drag to select an x range (the page re-queries it at full resolution),
// double-click to reset. What is plotted is readable as plain arrays (`plotted()`), which the browser tests check.
import type { XAxis } from './api-types.ts';
import { formatCompact, formatX, linearTicks, logTicks, xTicks } from './chart-scale.ts';
import { pixelColumns } from './pixel-columns.ts';
import { append, formatValue, h } from './dom.ts';

export interface ChartSeries {
  label: string;
  color: string;
  /** Per bucket: x of its first and last point. */
  xFirst: ArrayLike<number>;
  xLast: ArrayLike<number>;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  /** The drawn line: mean or smoothed mean per bucket. */
  line: ArrayLike<number>;
  /** Buckets drawn as highlighted markers (e.g. degraded model versions). */
  flagged?: ArrayLike<boolean>;
  /** Text beside each marker (e.g. the version number). */
  pointLabels?: readonly string[];
}

export interface ChartOptions {
  title: string;
  xKind: XAxis;
  log: boolean;
  /** Fixed x range (a zoom); otherwise the data's extent. */
  xDomain?: [number, number];
  markers?: boolean;
  /** A dashed horizontal line (e.g. the baseline version's value). */
  reference?: { value: number; label: string };
  height?: number;
  /** Width in CSS pixels; by default the element's width (reading it forces a layout, so pages pass it in). */
  width?: number;
  onZoom?: (from: number, to: number) => void;
  onReset?: () => void;
}

export interface PlottedSeries { label: string; x: number[]; xFirst: number[]; xLast: number[]; min: number[]; max: number[]; line: number[] }
export interface Plotted {
  title: string;
  xKind: XAxis;
  log: boolean;
  xDomain: [number, number];
  yDomain: [number, number];
  /** The plotting area inside the canvas, in CSS pixels. */
  plotArea: { left: number; top: number; width: number; height: number };
  series: PlottedSeries[];
}

const PAD = { left: 64, right: 24, top: 8, bottom: 26 };
const MAX_LEGEND = 24;

/** Index of the bucket nearest to x (binary search on the bucket midpoints), -1 when there are none. */
function bucketAt(s: ChartSeries, x: number): number {
  const n = s.xFirst.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.xLast[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(x - (s.xFirst[lo - 1]! + s.xLast[lo - 1]!) / 2) < Math.abs(x - (s.xFirst[lo]! + s.xLast[lo]!) / 2)) return lo - 1;
  return lo;
}

export class SeriesChart {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly selection: HTMLDivElement;
  private readonly readout: HTMLDivElement;
  private readonly legend: HTMLDivElement;
  private series: ChartSeries[] = [];
  private opts: ChartOptions;
  private xDom: [number, number] = [0, 1];
  private yDom: [number, number] = [0, 1];
  private dragStart: number | undefined;
  private size = { width: 0, height: 0 };
  private readonly move = (e: MouseEvent) => this.onMove(e);
  private readonly up = (e: MouseEvent) => this.onUp(e);
  private resizeTimer: number | undefined;
  private readonly resize = () => {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = window.setTimeout(() => {
      const { width: _w, ...rest } = this.opts;
      this.opts = rest;
      this.draw();
    }, 150);
  };

  constructor(opts: ChartOptions) {
    this.opts = opts;
    this.canvas = h('canvas', { class: 'chart-canvas', role: 'img', 'aria-label': `chart of ${opts.title}` });
    this.selection = h('div', { class: 'chart-selection', hidden: true });
    this.readout = h('div', { class: 'chart-readout', hidden: true });
    this.legend = h('div', { class: 'chart-legend' });
    this.element = h('div', { class: 'chart', 'data-chart': opts.title }, h('div', { class: 'chart-title' }, opts.title), h('div', { class: 'chart-plot' }, this.canvas, this.selection, this.readout), this.legend);
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => (this.readout.hidden = true));
    (this.element as HTMLDivElement & { chart?: SeriesChart }).chart = this;
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', this.move);
    window.addEventListener('mouseup', this.up);
    window.addEventListener('resize', this.resize);
    this.canvas.addEventListener('dblclick', () => this.opts.onReset?.());
  }

  setData(series: ChartSeries[], opts: Partial<ChartOptions> = {}): void {
    this.series = series;
    this.opts = { ...this.opts, ...opts };
    this.draw();
  }

  setLog(log: boolean): void {
    this.opts = { ...this.opts, log };
    this.draw();
  }

  /** Drops the window listeners; the page calls it before replacing the chart. */
  destroy(): void {
    window.removeEventListener('mousemove', this.move);
    window.removeEventListener('mouseup', this.up);
    window.removeEventListener('resize', this.resize);
    clearTimeout(this.resizeTimer);
  }

  plotted(): Plotted {
    return {
      title: this.opts.title,
      xKind: this.opts.xKind,
      log: this.opts.log,
      xDomain: [...this.xDom],
      yDomain: [...this.yDom],
      plotArea: { left: PAD.left, top: PAD.top, width: this.size.width - PAD.left - PAD.right, height: this.size.height - PAD.top - PAD.bottom },
      series: this.series.map((s) => ({
        label: s.label,
        x: Array.from(s.xFirst, (f, i) => (f + s.xLast[i]!) / 2),
        xFirst: Array.from(s.xFirst),
        xLast: Array.from(s.xLast),
        min: Array.from(s.min),
        max: Array.from(s.max),
        line: Array.from(s.line),
      })),
    };
  }

  private domains(): void {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const usable = (v: number) => Number.isFinite(v) && (!this.opts.log || v > 0);
    for (const s of this.series) {
      for (let i = 0; i < s.xFirst.length; i++) {
        x0 = Math.min(x0, s.xFirst[i]!);
        x1 = Math.max(x1, s.xLast[i]!);
        for (const v of [s.min[i]!, s.max[i]!, s.line[i]!]) {
          if (usable(v)) {
            y0 = Math.min(y0, v);
            y1 = Math.max(y1, v);
          }
        }
      }
    }
    if (this.opts.xDomain) [x0, x1] = this.opts.xDomain;
    if (!(x0 <= x1)) [x0, x1] = [0, 1];
    if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
    if (this.opts.markers && !this.opts.xDomain) {
      const pad = (x1 - x0) * 0.04;
      [x0, x1] = [x0 - pad, x1 + pad];
    }
    const ref = this.opts.reference?.value;
    if (ref !== undefined && Number.isFinite(ref) && (!this.opts.log || ref > 0)) [y0, y1] = [Math.min(y0, ref), Math.max(y1, ref)];
    if (!(y0 <= y1)) [y0, y1] = this.opts.log ? [1, 10] : [0, 1];
    if (y0 === y1) [y0, y1] = this.opts.log ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
    if (!this.opts.log) {
      // Room above the highest marker for its label.
      const pad = (y1 - y0) * (this.opts.markers ? 0.12 : 0.04);
      [y0, y1] = [y0 - pad, y1 + pad];
    }
    this.xDom = [x0, x1];
    this.yDom = [y0, y1];
  }

  private draw(): void {
    this.domains();
    const width = Math.max(200, this.opts.width ?? (this.element.clientWidth || 800));
    const height = this.opts.height ?? 260;
    const dpr = window.devicePixelRatio || 1;
    this.size = { width, height };
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const [x0, x1] = this.xDom;
    const log = this.opts.log;
    const [ly0, ly1] = log ? [Math.log10(this.yDom[0]), Math.log10(this.yDom[1])] : this.yDom;
    const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
    const py = (y: number) => PAD.top + plotH - (((log ? Math.log10(y) : y) - ly0) / (ly1 - ly0)) * plotH;
    const ok = (v: number) => Number.isFinite(v) && (!log || v > 0);

    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#5b6472';
    ctx.strokeStyle = '#e6e9ef';
    ctx.lineWidth = 1;
    const yt = log ? logTicks(this.yDom[0], this.yDom[1], 5) : linearTicks(this.yDom[0], this.yDom[1], 5);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of yt) {
      const y = Math.round(py(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(width - PAD.right, y);
      ctx.stroke();
      ctx.fillText(formatCompact(t), PAD.left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    // Ticks closer together than their labels' precision would repeat a label: each label is written once.
    let lastLabel = '';
    for (const t of xTicks(this.opts.xKind, x0, x1, Math.max(2, Math.floor(plotW / 110)))) {
      const label = formatX(this.opts.xKind, t, x1 - x0);
      if (label === lastLabel) continue;
      lastLabel = label;
      const x = Math.round(px(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, PAD.top);
      ctx.lineTo(x, PAD.top + plotH);
      ctx.stroke();
      ctx.fillText(label, x, PAD.top + plotH + 6);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, PAD.top, plotW, plotH);
    ctx.clip();
    const many = this.series.length > 20;
    for (const s of this.series) {
      const n = s.xFirst.length;
      const c = pixelColumns(s, px, ok, many ? 2 : 1);
      ctx.fillStyle = s.color;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1;
      if (many) {
        // Many series: one translucent bar per pixel column, far cheaper to draw than outlined polygons.
        ctx.globalAlpha = 0.12;
        for (let i = 0; i < c.length; i++) {
          if (Number.isNaN(c.min[i]!)) continue;
          const top = py(c.max[i]!);
          const height = py(c.min[i]!) - top;
          // A band thinner than a pixel is hidden under the line anyway.
          if (height >= 1) ctx.fillRect(c.x0[i]!, top, Math.max(1, c.x1[i]! - c.x0[i]!), height);
        }
      }
      // Band: consecutive columns with a min/max form one polygon (upper edge forward, lower edge back).
      let start = -1;
      for (let i = 0; i <= (many ? 0 : c.length); i++) {
        const good = i < c.length && !Number.isNaN(c.min[i]!);
        if (good && start < 0) start = i;
        if (!good && start >= 0) {
          ctx.beginPath();
          for (let j = start; j < i; j++) {
            ctx.lineTo(c.x0[j]!, py(c.max[j]!));
            ctx.lineTo(c.x1[j]! + 0.5, py(c.max[j]!));
          }
          for (let j = i - 1; j >= start; j--) {
            ctx.lineTo(c.x1[j]! + 0.5, py(c.min[j]!));
            ctx.lineTo(c.x0[j]!, py(c.min[j]!));
          }
          ctx.closePath();
          ctx.globalAlpha = 0.18;
          ctx.fill();
          // The outline keeps a one-bucket spike visible when its band is narrower than a pixel.
          ctx.globalAlpha = 0.45;
          ctx.stroke();
          start = -1;
        }
      }
      ctx.globalAlpha = 1;
      ctx.lineWidth = many ? 1 : 1.5;
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < c.length; i++) {
        if (Number.isNaN(c.first[i]!)) {
          pen = false;
          continue;
        }
        const x = (c.x0[i]! + c.x1[i]!) / 2;
        const yFirst = py(c.first[i]!);
        const yLast = py(c.last[i]!);
        if (pen) ctx.lineTo(x, yFirst);
        else ctx.moveTo(x, yFirst);
        // The column's low and high only when they reach beyond its first and last by a pixel.
        const yHigh = py(c.high[i]!);
        const yLow = py(c.low[i]!);
        if (Math.abs(yHigh - yLow) > Math.abs(yFirst - yLast) + 1) {
          ctx.lineTo(x, yLow);
          ctx.lineTo(x, yHigh);
        }
        if (yLast !== yFirst) ctx.lineTo(x, yLast);
        pen = true;
      }
      ctx.stroke();
      // A point with no neighbour draws no line: a dot shows it.
      for (let i = 0; i < c.length && !this.opts.markers; i++) {
        if (Number.isNaN(c.first[i]!) || (i > 0 && !Number.isNaN(c.first[i - 1]!)) || (i + 1 < c.length && !Number.isNaN(c.first[i + 1]!))) continue;
        ctx.beginPath();
        ctx.arc((c.x0[i]! + c.x1[i]!) / 2, py(c.last[i]!), 3, 0, Math.PI * 2);
        ctx.fill();
      }
      if (this.opts.markers) {
        for (let i = 0; i < n; i++) {
          const v = s.line[i]!;
          if (!ok(v)) continue;
          const flagged = s.flagged?.[i] === true;
          ctx.fillStyle = flagged ? '#d0312d' : s.color;
          const x = px((s.xFirst[i]! + s.xLast[i]!) / 2);
          ctx.beginPath();
          ctx.arc(x, py(v), flagged ? 5 : 3.5, 0, Math.PI * 2);
          ctx.fill();
          const label = s.pointLabels?.[i];
          if (label) {
            ctx.textAlign = 'center';
            ctx.textBaseline = 'bottom';
            ctx.fillText(label, x, py(v) - 7);
          }
        }
      }
    }
    const reference = this.opts.reference;
    if (reference && ok(reference.value)) {
      const y = Math.round(py(reference.value)) + 0.5;
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = '#5b6472';
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(PAD.left + plotW, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#5b6472';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      ctx.fillText(reference.label, PAD.left + plotW - 4, y - 2);
    }
    ctx.restore();
    this.renderLegend();
    ctx.strokeStyle = '#9aa3b2';
    ctx.strokeRect(PAD.left + 0.5, PAD.top + 0.5, plotW, plotH);
  }

  private renderLegend(): void {
    const shown = this.series.slice(0, MAX_LEGEND);
    this.legend.replaceChildren();
    append(this.legend, [
      ...shown.map((s) => h('span', { class: 'legend-item' }, h('i', { style: `background:${s.color}` }), s.label)),
      this.series.length > MAX_LEGEND ? h('span', { class: 'legend-more' }, `+ ${this.series.length - MAX_LEGEND} more (hover a line)`) : null,
    ]);
  }

  /** Under the cursor: the x there and the series whose line is nearest, with its bucket's min/max. */
  private onHover(e: MouseEvent): void {
    if (this.dragStart !== undefined || this.series.length === 0) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = this.dataX(e.clientX);
    const plotH = rect.height - PAD.top - PAD.bottom;
    const [y0, y1] = this.opts.log ? [Math.log10(this.yDom[0]), Math.log10(this.yDom[1])] : this.yDom;
    const frac = 1 - (e.clientY - rect.top - PAD.top) / plotH;
    const yAt = y0 + frac * (y1 - y0);
    let best: { s: ChartSeries; i: number; d: number } | undefined;
    for (const s of this.series) {
      const i = bucketAt(s, x);
      if (i < 0) continue;
      const v = s.line[i]!;
      const vy = this.opts.log ? Math.log10(v) : v;
      const d = Math.abs(vy - yAt);
      if (Number.isFinite(d) && (!best || d < best.d)) best = { s, i, d };
    }
    if (!best) {
      this.readout.hidden = true;
      return;
    }
    const { s, i } = best;
    const range = s.xFirst[i] === s.xLast[i] ? formatX(this.opts.xKind, s.xFirst[i]!, 0) : `${formatX(this.opts.xKind, s.xFirst[i]!, 0)} – ${formatX(this.opts.xKind, s.xLast[i]!, 0)}`;
    this.readout.replaceChildren();
    append(this.readout, [
      h('b', { style: `color:${s.color}` }, s.label),
      h('div', {}, `x ${range}`),
      h('div', {}, `value ${formatValue(s.line[i])}`),
      s.min[i] === s.max[i] ? null : h('div', {}, `min ${formatValue(s.min[i])} · max ${formatValue(s.max[i])}`),
    ]);
    const left = e.clientX - rect.left;
    Object.assign(this.readout.style, { left: `${left > rect.width / 2 ? left - 12 : left + 12}px`, top: `${e.clientY - rect.top + 12}px`, transform: left > rect.width / 2 ? 'translateX(-100%)' : '' });
    this.readout.hidden = false;
  }

  /** Canvas x (CSS pixels) -> data x. */
  private dataX(clientX: number): number {
    const rect = this.canvas.getBoundingClientRect();
    const plotW = rect.width - PAD.left - PAD.right;
    const frac = Math.min(1, Math.max(0, (clientX - rect.left - PAD.left) / plotW));
    return this.xDom[0] + frac * (this.xDom[1] - this.xDom[0]);
  }

  private onDown(e: MouseEvent): void {
    if (!this.opts.onZoom || e.button !== 0) return;
    this.dragStart = e.clientX;
    e.preventDefault();
  }

  private onMove(e: MouseEvent): void {
    if (this.dragStart === undefined) return;
    const rect = this.canvas.getBoundingClientRect();
    const a = Math.max(rect.left + PAD.left, Math.min(this.dragStart, e.clientX));
    const b = Math.min(rect.right - PAD.right, Math.max(this.dragStart, e.clientX));
    Object.assign(this.selection.style, { left: `${a - rect.left}px`, width: `${Math.max(0, b - a)}px`, top: `${PAD.top}px`, height: `${rect.height - PAD.top - PAD.bottom}px` });
    this.selection.hidden = false;
  }

  private onUp(e: MouseEvent): void {
    if (this.dragStart === undefined) return;
    const start = this.dragStart;
    this.dragStart = undefined;
    this.selection.hidden = true;
    if (Math.abs(e.clientX - start) < 4) return;
    // Steps and milliseconds are integers on every x-axis.
    this.opts.onZoom?.(Math.floor(this.dataX(Math.min(start, e.clientX))), Math.ceil(this.dataX(Math.max(start, e.clientX))));
  }
}
