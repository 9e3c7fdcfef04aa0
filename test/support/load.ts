import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  /** Requests completed in the run. */
  requests: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
}

/** A bounded autocannon run against this machine only. */
export async function load(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error('Benchmarks send traffic to 127.0.0.1 only');
  return loadResult(await autocannon({ url, connections, duration: seconds, headers, pipelining: 1 }));
}

/** The figures a benchmark keeps of an autocannon run. */
export function loadResult(result: autocannon.Result): LoadResult {
  return {
    rps: Math.round(result.requests.average),
    requests: result.requests.total,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}
