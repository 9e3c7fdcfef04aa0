import { IntegrationsConfig } from '../../config/app-config';
import { errorForStatus, IntegrationRefusedError } from '../integration-errors';
import { SlackConfiguration, SlackCredentials } from '../integration-types';
import { requestJson } from './http-target';

interface SlackAnswer {
  ok?: boolean;
  error?: string;
  ts?: string;
}

/** Slack's errors that another try could get past; every other `ok: false` is a refusal. */
const TRANSIENT_SLACK_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** A Slack channel that receives messages through the Web API with a bot token. */
export class SlackTarget {
  constructor(
    private readonly configuration: SlackConfiguration,
    private readonly credentials: SlackCredentials,
    private readonly config: IntegrationsConfig,
  ) {}

  /** chat.postMessage; answers the message's timestamp (its id in the channel). */
  async post(text: string, blocks: unknown[], signal: AbortSignal): Promise<string> {
    const answer = await this.call('chat.postMessage', { channel: this.configuration.channel, text, blocks, unfurl_links: false }, signal);
    return answer.ts ?? '';
  }

  /** auth.test: the token is valid. */
  async check(signal: AbortSignal): Promise<void> {
    await this.call('auth.test', {}, signal);
  }

  private async call(method: string, body: Record<string, unknown>, signal: AbortSignal): Promise<SlackAnswer> {
    const answer = await requestJson<SlackAnswer>(
      `${this.config.slackApiUrl}/${method}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.credentials.bot_token}` },
        body: JSON.stringify(body),
      },
      { name: 'Slack', timeoutMs: this.config.requestTimeoutMs, signal },
    );
    // Slack answers HTTP 200 with `ok: false` for most failures.
    if (answer.ok !== true) {
      const error = answer.error ?? 'unknown_error';
      if (TRANSIENT_SLACK_ERRORS.has(error)) throw errorForStatus('Slack', 503, error);
      throw new IntegrationRefusedError(`Slack refused the request (${error}).`);
    }
    return answer;
  }
}
