// A uPlot chart as a Preact component: created once on its element, its data replaced in place as
// new figures arrive (uPlot redraws only the canvas). The figure is described in text beside it
// (`summary`), since a canvas says nothing to a screen reader; `data-points` tells a test how many
// points each series drew.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
}

export interface ChartProps {
  readonly title: string;
  /**
   * The x values (seconds since the epoch for time, or categories' positions), then one array per
   * series; null is a gap (a suppressed figure is never drawn as zero).
   */
  readonly data: readonly [readonly number[], ...(readonly (number | null)[])[]];
  readonly series: readonly ChartSeries[];
  readonly summary: string;
  /** Bars instead of lines (distributions, per bucket figures). */
  readonly bars?: boolean;
  /** x is not time: its values are positions, labelled by these. */
  readonly xLabels?: readonly string[];
}

const chartHeight = 220;

function options(props: ChartProps, width: number): uPlot.Options {
  const paths = props.bars === true ? uPlot.paths.bars?.({ size: [0.6, 64] }) : undefined;
  const labels = props.xLabels;
  return {
    width,
    height: chartHeight,
    scales: { x: { time: labels === undefined } },
    axes: [
      labels === undefined
        ? {}
        : { values: (_plot, splits) => splits.map((split) => labels[Math.round(split)] ?? '') },
      {},
    ],
    series: [
      {},
      ...props.series.map((series) => ({
        label: series.label,
        stroke: series.color,
        width: 2,
        ...(paths === undefined ? {} : { paths, fill: series.color }),
      })),
    ],
  };
}

export function Chart(props: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = props.data.map((column) => [...column]) as uPlot.AlignedData;
  useEffect(() => {
    const element = holder.current;
    if (element === null) return undefined;
    const created = new uPlot(options(props, Math.max(240, element.clientWidth)), data, element);
    plot.current = created;
    const resize = () => {
      created.setSize({ width: Math.max(240, element.clientWidth), height: chartHeight });
    };
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      created.destroy();
      plot.current = null;
    };
    // The chart's shape (series, kind) is fixed for its lifetime; its data changes below.
  }, [props.series.length, props.bars]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  const points = props.data.slice(1).map((column) => column.filter((value) => value !== null).length);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={holder} class="chart-canvas" data-points={points.join(',')} aria-hidden="true" />
      <p class="chart-summary">{props.summary}</p>
    </figure>
  );
}
