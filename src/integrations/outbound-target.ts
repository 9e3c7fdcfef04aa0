import { isIP } from 'node:net';
import { remoteEndpointProblem } from '../providers/credential-documents/remote-endpoint';

/**
 * Whether an integration may call a URL. Integration targets are chosen by
 * tenants (a Jira site) or operators (the AWS and Slack endpoints), and the
 * worker that calls them sits inside the deployment's network: a target
 * must be https on a public host, never the worker itself, a metadata
 * service or a private network (RFC 1918, unique-local IPv6, CGNAT).
 *
 * `allowLocal` (INTEGRATIONS_ALLOW_LOCAL_TARGETS, refused in production)
 * lets loopback addresses through over http as well, so tests and local
 * development can use servers on 127.0.0.1; private networks and metadata
 * services stay refused even then. Only literal addresses and well-known
 * names can be judged here; names that resolve to such addresses are for
 * the network's egress rules (README, "Integrations").
 */
export function outboundUrlProblem(value: string, allowLocal: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL.';
  }
  if (url.username || url.password) return 'must not carry credentials.';
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (allowLocal && isLoopback(host)) {
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must be an http or https URL.';
  }
  const remote = remoteEndpointProblem(value, ['https:']);
  if (remote) return remote;
  if (isPrivateAddress(host)) return 'may not name a private network address.';
  return undefined;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const version = isIP(host);
  if (version === 4) return host.startsWith('127.');
  return version === 6 && host === '::1';
}

function isPrivateAddress(host: string): boolean {
  const version = isIP(host);
  if (version === 4) {
    const [a, b] = host.split('.').map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (version === 6) {
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (mapped) {
      const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
      return isPrivateAddress([high >> 8, high & 255, low >> 8, low & 255].join('.'));
    }
    return /^f[cd][0-9a-f]{0,2}:/.test(host);
  }
  return false;
}
