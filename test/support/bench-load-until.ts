import autocannon from 'autocannon';
import { LoadResult, loadResult } from './load';

/**
 * Autocannon against one URL of this machine until `until` settles (a job
 * finishing), however long that takes: the "during" phase of a benchmark
 * whose length is what it measures.
 */
export function loadUntil(url: string, connections: number, headers: Record<string, string>, until: Promise<unknown>): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error('Benchmarks send traffic to 127.0.0.1 only');
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: 24 * 3600, headers, pipelining: 1 }, (error, result) => {
      if (error) return reject(error);
      resolve(loadResult(result));
    });
    void until.finally(() => instance.stop());
  });
}
