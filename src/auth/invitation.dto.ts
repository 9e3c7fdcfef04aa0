import { IsDefined, IsEmail, IsISO8601, IsString, Length, MaxLength } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

const EMAIL_MESSAGE = { message: 'email must be a valid email address' };

export class CreateInvitationAttributes {
  @Example('ana@example.com') @IsDefined() @IsEmail({}, EMAIL_MESSAGE) @MaxLength(254) email!: string;
  /**
   * Default: seven days from now. No example: the accepted window moves with
   * the clock (24 hours to 7 days ahead), so any fixed date goes stale.
   */
  @Omittable() @IsISO8601({ strict: true }) expires_at?: string;
}

export class UpdateInvitationAttributes {
  @Example('ana.souza@example.com') @Omittable() @IsEmail({}, EMAIL_MESSAGE) @MaxLength(254) email?: string;
  @Omittable() @IsISO8601({ strict: true }) expires_at?: string;
}

export class AcceptInvitationAttributes {
  @Example('Zk3v9QmB7xT2pL5wR8cN1yH4sD6fG0jKaUeVbWiXoYq') @IsDefined() @IsString() @Length(1, 512) invitation_token!: string;
}
