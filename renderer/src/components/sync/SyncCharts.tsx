import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { useStore } from '../../store';

/** Live rows/s (committed) and lag (source commit → snapshot) of a running pipeline. */
export function SyncCharts({ name }: { name: string }) {
  const samples = useStore((s) => s.progressHistory[name]);
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || !samples || samples.length < 2) return;
    const xs = samples.map((p) => p.atMs / 1000);
    const rate = samples.map((p, i) => (i === 0 ? 0 : Math.max(0, (p.rows - samples[i - 1]!.rows) / Math.max(0.001, (p.atMs - samples[i - 1]!.atMs) / 1000))));
    const lag = samples.map((p) => (p.lagMs === null ? null : p.lagMs / 1000));
    const plot = new uPlot(
      {
        width: el.current.clientWidth || 600,
        height: 140,
        legend: { show: true },
        scales: { x: { time: true }, rate: {}, lag: {} },
        axes: [{}, { scale: 'rate', label: 'rows/s', size: 60 }, { scale: 'lag', side: 1, label: 'lag (s)', grid: { show: false } }],
        series: [{}, { label: 'rows/s committed', scale: 'rate', stroke: '#1f6feb', width: 2 }, { label: 'lag s', scale: 'lag', stroke: '#ef6c00', width: 2 }],
      },
      [xs, rate, lag],
      el.current,
    );
    return () => plot.destroy();
  }, [samples]);
  if (!samples || samples.length < 2) return null;
  return <div className="sync-charts" ref={el} role="img" aria-label="Rows per second and lag" />;
}
