import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LogMailer, Mailer, SmtpMailer } from './mailer';

/**
 * The mailer of the API process. A production API that requires email
 * verification cannot start without a mail server: nobody could confirm an
 * address, so nobody could sign in.
 */
export function createMailer(config: AppConfig): Mailer {
  if (config.email.smtpUrl) return new SmtpMailer(config.email.smtpUrl, config.email.from);
  if (config.env === 'production' && config.email.verificationRequired) {
    throw new Error('SMTP_URL is required when NODE_ENV=production and EMAIL_VERIFICATION_REQUIRED is on: verification mails could not be sent');
  }
  return new LogMailer(config.env !== 'production');
}

@Injectable()
class MailerCloser implements OnApplicationShutdown {
  constructor(@Inject(Mailer) private readonly mailer: Mailer) {}
  onApplicationShutdown(): void {
    if (this.mailer instanceof SmtpMailer) this.mailer.close();
  }
}

@Module({
  providers: [{ provide: Mailer, inject: [APP_CONFIG], useFactory: createMailer }, MailerCloser],
  exports: [Mailer],
})
export class MailModule {}
