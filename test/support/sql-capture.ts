import { appendFileSync } from 'node:fs';
import { Client } from 'pg';

/**
 * Loaded with `node --require` into an API process (NODE_OPTIONS) when
 * SQL_CAPTURE_FILE is set: every statement the process sends, with its
 * parameters, is appended to that file as a JSON line, so a benchmark can
 * replay what a request ran under EXPLAIN. Never loaded by the application
 * itself.
 */
const file = process.env.SQL_CAPTURE_FILE;
if (file) {
  const query = Client.prototype.query;
  Client.prototype.query = function capturedQuery(this: Client, ...args: unknown[]) {
    const [config, values] = args as [string | { text?: string; values?: unknown[] } | undefined, unknown];
    const text = typeof config === 'string' ? config : config?.text;
    const params = Array.isArray(values) ? values : typeof config === 'object' ? (config?.values ?? []) : [];
    if (text) appendFileSync(file, JSON.stringify({ text, values: params }) + '\n');
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
}
