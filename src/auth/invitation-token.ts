/** An invitation's token is shown once, to the inviter, when the invitation is created. */
export { newSecretToken as newInvitationToken, secretTokenHash as invitationTokenHash } from './secret-token';
