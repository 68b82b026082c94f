import type { Histogram } from 'prom-client';

type DurationLabel = 'method' | 'route' | 'status';

/**
 * Records request durations in `histogram`, with one labelled child per method, route and status kept for reuse, so
 * a request does not build and validate a labels object. The label values are few (route patterns, not paths; the
 * HTTP parser's fixed set of methods), so the cache stays as small as the metric itself.
 */
export function createDurationRecorder(
  histogram: Histogram<DurationLabel>,
): (method: string, route: string, status: number, seconds: number) => void {
  const children = new Map<string, ReturnType<Histogram<DurationLabel>['labels']>>();
  return (method, route, status, seconds) => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (child === undefined) {
      child = histogram.labels({ method, route, status });
      children.set(key, child);
    }
    child.observe(seconds);
  };
}
