/** Latency histograms in microseconds, summarised as the percentiles the report shows. */
import { build, type Histogram } from "hdr-histogram-js";

/** An hour in microseconds: anything slower is a hang, not a latency. */
const latencyMicrosecondsMax = 3_600_000_000;

export function latencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: latencyMicrosecondsMax,
    numberOfSignificantValueDigits: 3,
  });
}

export function recordMilliseconds(histogram: Histogram, milliseconds: number): void {
  histogram.recordValue(Math.max(1, Math.round(milliseconds * 1000)));
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function summarise(histogram: Histogram): LatencySummary {
  return {
    count: histogram.totalCount,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    p999Ms: histogram.getValueAtPercentile(99.9) / 1000,
    maxMs: histogram.maxValue / 1000,
  };
}
