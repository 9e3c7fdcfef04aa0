import { Logger } from '@nestjs/common';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/** The mail port: how the API reaches a person at their address. */
export abstract class Mailer {
  abstract send(mail: OutgoingMail): Promise<void>;
}

/** Delivers through an SMTP server (`SMTP_URL`, e.g. smtps://user:pass@mail.example.com). */
export class SmtpMailer extends Mailer {
  private readonly transport: Transporter;

  constructor(url: string, private readonly from: string) {
    super();
    this.transport = nodemailer.createTransport(url);
  }

  async send(mail: OutgoingMail): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Without a mail server: the mail goes to the log. In development the whole
 * text is logged, so a developer can copy the token from it; otherwise only
 * the recipient and subject, since the text holds a token worth an account.
 */
export class LogMailer extends Mailer {
  private readonly logger = new Logger('Mail');

  constructor(private readonly includeText: boolean) {
    super();
  }

  async send(mail: OutgoingMail): Promise<void> {
    const shown = this.includeText ? mail : { to: mail.to, subject: mail.subject };
    this.logger.warn(`No SMTP_URL: mail not sent, logged instead: ${JSON.stringify(shown)}`);
  }
}
