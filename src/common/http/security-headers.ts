import helmet, { HelmetOptions } from 'helmet';
import type { ServerResponse } from 'node:http';

/**
 * The response headers helmet sets for these options, worked out once. They
 * depend on nothing in the request (no CSP nonces here), so every response
 * gets the same set in one call instead of helmet building its middleware
 * chain again for each request.
 */
export function securityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as never, collector as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return Object.freeze(headers);
}
