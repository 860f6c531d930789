// Reference and current distributions of one column, overlaid: bars per bin (numerical, from bin edges) or per
// category, as shares of each side's rows so datasets of different sizes compare. `plotted()` returns the arrays.
import { formatCompact } from './chart-scale.ts';
import { h } from './dom.ts';

export interface HistogramData {
  column: string;
  /** Numerical: n + 1 bin edges. Categorical: n labels. */
  edges?: number[];
  labels?: string[];
  reference: number[];
  current: number[];
}

export interface PlottedHistogram { column: string; bins: string[]; referenceShare: number[]; currentShare: number[] }

const PAD = { left: 44, right: 10, top: 8, bottom: 34 };
const COLORS = { reference: 'rgba(91, 100, 114, 0.45)', current: 'rgba(47, 111, 223, 0.55)' };

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

export class HistogramChart {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private data: PlottedHistogram;

  constructor(d: HistogramData, width = 360, height = 170) {
    const bins = d.labels ?? (d.edges ?? []).slice(0, -1).map((e, i) => `${formatCompact(e)}–${formatCompact(d.edges![i + 1]!)}`);
    this.data = { column: d.column, bins, referenceShare: shares(d.reference), currentShare: shares(d.current) };
    this.canvas = h('canvas', { class: 'histogram-canvas' });
    this.element = h(
      'div',
      { class: 'histogram', 'data-histogram': d.column },
      this.canvas,
      h('div', { class: 'chart-legend' }, h('span', { class: 'legend-item' }, h('i', { style: `background:${COLORS.reference}` }), 'reference'), h('span', { class: 'legend-item' }, h('i', { style: `background:${COLORS.current}` }), 'current')),
    );
    (this.element as HTMLDivElement & { histogram?: HistogramChart }).histogram = this;
    this.draw(d, width, height);
  }

  plotted(): PlottedHistogram {
    return { ...this.data, bins: [...this.data.bins], referenceShare: [...this.data.referenceShare], currentShare: [...this.data.currentShare] };
  }

  private draw(d: HistogramData, width: number, height: number): void {
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    const { referenceShare: ref, currentShare: cur, bins } = this.data;
    const top = Math.max(1e-9, ...ref, ...cur);
    const n = bins.length;
    const slot = plotW / Math.max(1, n);
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#5b6472';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const f of [0, 0.5, 1]) ctx.fillText(`${Math.round(top * f * 100)}%`, PAD.left - 4, PAD.top + plotH - f * plotH);
    // Numerical bins touch (a histogram); categories get a gap and side-by-side bars.
    const numerical = d.edges !== undefined;
    for (let i = 0; i < n; i++) {
      const x = PAD.left + i * slot;
      const bar = (share: number, color: string, offset: number, w: number) => {
        ctx.fillStyle = color;
        const hgt = (share / top) * plotH;
        ctx.fillRect(x + offset, PAD.top + plotH - hgt, w, hgt);
      };
      if (numerical) {
        bar(ref[i]!, COLORS.reference, 0, Math.max(1, slot - 0.5));
        bar(cur[i]!, COLORS.current, 0, Math.max(1, slot - 0.5));
      } else {
        const w = Math.max(1, (slot * 0.8) / 2);
        bar(ref[i]!, COLORS.reference, slot * 0.1, w);
        bar(cur[i]!, COLORS.current, slot * 0.1 + w, w);
      }
    }
    ctx.strokeStyle = '#9aa3b2';
    ctx.beginPath();
    ctx.moveTo(PAD.left, PAD.top + plotH + 0.5);
    ctx.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
    ctx.stroke();
    ctx.fillStyle = '#5b6472';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const every = Math.max(1, Math.ceil((n * 60) / plotW));
    for (let i = 0; i < n; i += every) {
      const label = numerical ? formatCompact(d.edges![i]!) : bins[i]!.slice(0, 10);
      ctx.fillText(label, PAD.left + i * slot + (numerical ? 0 : slot / 2), PAD.top + plotH + 4);
    }
  }
}
