import { LoadResult } from './load';

export interface WalkResult extends LoadResult {
  /** The deepest page a walk reached. */
  deepest_page: number;
}

/**
 * `connections` concurrent clients, each opening `firstPath` in cursor mode
 * and following its `links.next` until there is none or `maxPages` pages were
 * read (with 1, the page alone), then starting over, for `seconds`: the
 * latency of every page request (first and following alike) as one
 * distribution. No request starts after `seconds`; each one started is
 * measured to its end.
 */
export async function cursorWalk(
  baseUrl: string,
  firstPath: string,
  connections: number,
  seconds: number,
  headers: Record<string, string>,
  maxPages: number,
): Promise<WalkResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) throw new Error('Benchmarks send traffic to 127.0.0.1 only');
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let deepest = 0;
  const end = Date.now() + seconds * 1000;
  const client = async () => {
    while (Date.now() < end) {
      let path: string | null = firstPath;
      for (let page = 1; path && page <= maxPages && Date.now() < end; page++) {
        const started = process.hrtime.bigint();
        try {
          const response = await fetch(`${baseUrl}${path}`, { headers });
          const body = (await response.json()) as { links?: { next?: string | null } };
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (response.status >= 300) {
            non2xx++;
            break;
          }
          deepest = Math.max(deepest, page);
          path = body.links?.next ?? null;
        } catch {
          errors++;
          break;
        }
      }
    }
  };
  const startedAll = Date.now();
  await Promise.all(Array.from({ length: connections }, client));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]) : 0);
  return {
    rps: Math.round(latencies.length / ((Date.now() - startedAll) / 1000)),
    requests: latencies.length,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    errors,
    non2xx,
    deepest_page: deepest,
  };
}
