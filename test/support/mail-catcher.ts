import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  from: string;
  to: string[];
  subject: string;
  /** The body, decoded from quoted-printable when the sender used it. */
  text: string;
  raw: string;
}

/**
 * A real SMTP server on 127.0.0.1 and a random port that keeps every mail it
 * receives, for tests that read what the API sent (the token a user would
 * copy from the mail).
 */
export class MailCatcher {
  readonly mails: CaughtMail[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly server: SMTPServer, readonly port: number) {}

  static async start(): Promise<MailCatcher> {
    let catcher: MailCatcher | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          catcher!.keep(Buffer.concat(chunks).toString('utf8'), session.envelope);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    catcher = new MailCatcher(server, (server.server.address() as AddressInfo).port);
    return catcher;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Takes the oldest mail to `address` (case-insensitive) not taken yet, waiting for it to arrive. */
  async next(address: string, timeoutMs = 10000): Promise<CaughtMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()));
      if (found) {
        this.mails.splice(this.mails.indexOf(found), 1);
        return found;
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Mails to `address` received so far, without waiting or taking them. */
  to(address: string): CaughtMail[] {
    return this.mails.filter((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private keep(raw: string, envelope: { mailFrom: false | { address: string }; rcptTo: Array<{ address: string }> }): void {
    const split = raw.indexOf('\r\n\r\n');
    const headers = raw.slice(0, split);
    const body = raw.slice(split + 4);
    const quotedPrintable = /content-transfer-encoding:\s*quoted-printable/i.test(headers);
    this.mails.push({
      from: envelope.mailFrom ? envelope.mailFrom.address : '',
      to: envelope.rcptTo.map((r) => r.address),
      subject: /^subject: (.*)$/im.exec(headers)?.[1]?.trim() ?? '',
      text: quotedPrintable ? decodeQuotedPrintable(body) : body,
      raw,
    });
    for (const wake of this.waiters.splice(0)) wake();
  }
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The verification token a mail carries. */
export function tokenIn(mail: CaughtMail): string {
  const match = /token: ([A-Za-z0-9_-]{43})/.exec(mail.text);
  if (!match) throw new Error(`no token in mail: ${mail.text}`);
  return match[1];
}
