import { isIP } from 'node:net';

/**
 * Host names and addresses a tenant's endpoint may never name: the worker
 * itself and the cloud metadata services, which answer anyone on the host
 * with the host's own credentials. Only literal addresses and well-known
 * names can be judged here; a name that resolves to them is for the
 * network's egress rules (README, "What a worker process holds").
 */
const FORBIDDEN_HOSTS = new Set(['localhost', 'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/**
 * What is wrong with a URL a scan would connect to, worded to follow a field
 * name ("must be an https URL."); undefined when it may be used. Only the
 * schemes given are accepted: never file:, and never a local host.
 */
export function remoteEndpointProblem(value: string, schemes: readonly string[] = ['https:']): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL.';
  }
  if (!schemes.includes(url.protocol)) return `must be a${schemes.length === 1 ? 'n' : ''} ${schemes.map((s) => s.slice(0, -1)).join(' or ')} URL.`;
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === '' || FORBIDDEN_HOSTS.has(host) || host.endsWith('.localhost') || isLocalAddress(host)) {
    return 'may not name the scanning host itself or a metadata service.';
  }
  return undefined;
}

/** Loopback, link-local (where the metadata services live), unspecified and IPv4-mapped forms of them. */
function isLocalAddress(host: string): boolean {
  const version = isIP(host);
  if (version === 4) return isLocalIpv4(host);
  if (version !== 6) return false;
  // The URL parser writes an IPv4-mapped address in hex (::ffff:7f00:1).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) return isLocalIpv4(hexPairToIpv4(mapped[1], mapped[2]));
  return host === '::' || host === '::1' || /^fe[89ab][0-9a-f]?:/.test(host) || /^fd00:ec2::/.test(host);
}

function isLocalIpv4(address: string): boolean {
  const [first, second] = address.split('.').map(Number);
  return first === 127 || first === 0 || (first === 169 && second === 254);
}

function hexPairToIpv4(high: string, low: string): string {
  const [a, b] = [parseInt(high, 16), parseInt(low, 16)];
  return [a >> 8, a & 255, b >> 8, b & 255].join('.');
}
