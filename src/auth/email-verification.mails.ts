import { OutgoingMail } from '../mail/mailer';
import { VerificationPurpose } from './email-verifications.repository';

const CONFIRM = (token: string) =>
  `To confirm, send this token to POST /api/v1/email-verifications:\n\n  token: ${token}\n\n` +
  `for example:\n  curl -X POST <api>/api/v1/email-verifications -H 'content-type: application/vnd.api+json' \\\n` +
  `    -d '{"data":{"type":"email-verifications","attributes":{"token":"${token}"}}}'\n`;

/** The mail that proves the reader owns the address. */
export function verificationMail(purpose: VerificationPurpose, email: string, token: string, ttlSeconds: number): OutgoingMail {
  const hours = Math.round(ttlSeconds / 3600);
  const why =
    purpose === 'sign_up'
      ? 'Someone signed up to the cloud security posture API with this address.'
      : 'Someone asked to move their cloud security posture API account to this address.';
  return {
    to: email,
    subject: purpose === 'sign_up' ? 'Confirm your email address' : 'Confirm your new email address',
    text: `${why}\n\n${CONFIRM(token)}\nThe token works once, for ${hours} hour(s). If this was not you, ignore this mail: nothing changes.\n`,
  };
}

/** Sent instead of a second account, so the sign-up answer itself never tells who is registered. */
export function signUpAttemptMail(email: string): OutgoingMail {
  return {
    to: email,
    subject: 'Someone tried to sign up with your address',
    text:
      'Someone tried to sign up to the cloud security posture API with this address, which already has an account. ' +
      'No new account was created and your account is unchanged.\n\nIf it was you, sign in with your existing password. ' +
      'If it was not, you can ignore this mail.\n',
  };
}
