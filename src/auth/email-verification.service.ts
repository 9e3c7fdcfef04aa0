import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ApiError } from '../common/errors/api-error';
import { TenantDatabase } from '../database/tenant-database';
import { Mailer, OutgoingMail } from '../mail/mailer';
import { signUpAttemptMail, verificationMail } from './email-verification.mails';
import {
  emailTakenByOther,
  insertVerification,
  lockVerificationByToken,
  markEmailVerified,
  markVerificationUsed,
  moveToVerifiedEmail,
  VerificationPurpose,
} from './email-verifications.repository';
import { newSecretToken, secretTokenHash } from './secret-token';

const logger = new Logger('EmailVerification');
const TOKEN_POINTER = { pointer: '/data/attributes/token' };

export interface ConfirmedEmail {
  id: string;
  email: string;
  purpose: VerificationPurpose;
}

/**
 * Proof that a user owns an address: a single-use token mailed to it, of
 * which only the hash is stored. Confirming the sign-up proof marks the
 * address verified; confirming a change proof moves the user to the new
 * address. Until then the address counts for nothing (no sign-in when
 * verification is required, no row filter template, no invitation).
 */
@Injectable()
export class EmailVerificationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: TenantDatabase,
    private readonly mailer: Mailer,
  ) {}

  get required(): boolean {
    return this.config.email.verificationRequired;
  }

  /** Records a new proof through `manager` (owner role at sign-up, the tenant transaction for a change) and returns its mail. */
  async issue(manager: EntityManager, userId: string, email: string, purpose: VerificationPurpose): Promise<OutgoingMail> {
    const token = newSecretToken();
    const ttlSeconds = this.config.email.verificationTtlSeconds;
    await insertVerification(manager, { userId, email, purpose, tokenHash: secretTokenHash(token), ttlSeconds });
    return verificationMail(purpose, email, token, ttlSeconds);
  }

  /** Sends a mail whose loss the caller must hear about (the answer says it was sent). */
  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.mailer.send(mail);
    } catch (error) {
      logger.error(`Mail to ${mail.to} not sent: ${(error as Error).message}`);
      throw new ApiError(503, 'mail_unavailable', 'The verification mail could not be sent; try again later.');
    }
  }

  /**
   * Sends a sign-up mail. Its loss is logged, not answered: the sign-up answer
   * must be the same whether the address was new or taken, and signing up
   * again sends a fresh mail.
   */
  async sendQuietly(mail: OutgoingMail): Promise<void> {
    await this.mailer.send(mail).catch((error: Error) => logger.error(`Mail to ${mail.to} not sent: ${error.message}`));
  }

  signUpAttemptMail(email: string): OutgoingMail {
    return signUpAttemptMail(email);
  }

  /** Applies a proof. A named owner-role write keyed by the token's hash: the caller has no account to sign in with yet. */
  confirm(token: string): Promise<ConfirmedEmail> {
    return this.database.adminTransaction(async (admin) => {
      const pending = await lockVerificationByToken(admin, secretTokenHash(token));
      if (!pending || pending.used) throw ApiError.badRequest('token_not_valid', 'This verification token is not valid or was already used.', TOKEN_POINTER);
      if (pending.expired) throw ApiError.badRequest('token_expired', 'This verification token has expired; ask for a new mail.', TOKEN_POINTER);
      if (pending.purpose === 'sign_up') {
        await markEmailVerified(admin, pending.user_id, pending.email);
      } else {
        if (await emailTakenByOther(admin, pending.email, pending.user_id)) {
          throw ApiError.conflict('email_taken', 'Another account uses this address now.', TOKEN_POINTER);
        }
        await moveToVerifiedEmail(admin, pending.user_id, pending.email);
      }
      await markVerificationUsed(admin, pending.id);
      return { id: pending.id, email: pending.email, purpose: pending.purpose };
    });
  }
}
