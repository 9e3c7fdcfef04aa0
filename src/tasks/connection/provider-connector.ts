import { JobOutcomeError, TransientJobError } from '../jobs/job-errors';

export interface ConnectionTarget {
  provider: string;
  uid: string;
  /** The kind of secret stored, if any; the secret itself never leaves this process through a connector. */
  secretType: string | null;
}

export interface ConnectionResult {
  connected: boolean;
  error: string | null;
}

/** The port a connection check goes through. */
export interface ProviderConnector {
  check(target: ConnectionTarget, signal: AbortSignal): Promise<ConnectionResult>;
}

export const PROVIDER_CONNECTOR = Symbol('PROVIDER_CONNECTOR');

/** The default: these machines reach no cloud, so the check fails saying so instead of guessing. */
export class UnreachableCloudConnector implements ProviderConnector {
  async check(target: ConnectionTarget): Promise<ConnectionResult> {
    throw new JobOutcomeError(
      'connector_unavailable',
      `No connector can reach ${target.provider} from this deployment (CONNECTION_CHECK_URL is not set), so the credentials were not checked.`,
    );
  }
}

/**
 * Asks an HTTP service to check the provider (CONNECTION_CHECK_URL): POST
 * `{provider, uid, secret_type}`, answer `{connected, error}`. Tests point
 * it at a server they start; a deployment could point it at a checking
 * service of its own.
 */
export class HttpConnector implements ProviderConnector {
  constructor(private readonly url: string) {}

  async check(target: ConnectionTarget, signal: AbortSignal): Promise<ConnectionResult> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ provider: target.provider, uid: target.uid, secret_type: target.secretType }),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new TransientJobError(`The connection checker did not answer (${(error as Error).message}).`);
    }
    if (response.status >= 500) throw new TransientJobError(`The connection checker failed with HTTP ${response.status}.`);
    const body = (await response.json().catch(() => null)) as { connected?: unknown; error?: unknown } | null;
    if (!response.ok || typeof body?.connected !== 'boolean') {
      throw new JobOutcomeError('connector_error', `The connection checker gave no usable answer (HTTP ${response.status}).`);
    }
    return { connected: body.connected, error: typeof body.error === 'string' ? body.error.slice(0, 500) : null };
  }
}
