import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Structured JSON logs. Paths that may carry credentials are redacted at the
 * source, so a careless log call cannot leak a token, password or secret.
 */
export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'cspm-api', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.secret',
        '*.access',
        '*.refresh',
        '*.token',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  }, destination ?? pino.destination(1));
}

/**
 * Nest's own messages (start-up, module wiring) into the same JSON stream. A
 * message may be an object of fields with its text in `msg`, kept as fields.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    // Nest's route mapping lines print the global prefix even for excluded routes (health); http-app logs routes as served.
    if (context === 'RoutesResolver' || context === 'RouterExplorer') return;
    this.logger.info(...entry(message, { context }));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error(...entry(message, { context, trace }));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn(...entry(message, { context }));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug(...entry(message, { context }));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace(...entry(message, { context }));
  }
}

function entry(message: unknown, base: Record<string, unknown>): [Record<string, unknown>, string] {
  if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
    const { msg, ...fields } = message as Record<string, unknown>;
    return [{ ...base, ...fields }, String(msg ?? '')];
  }
  return [base, String(message)];
}
