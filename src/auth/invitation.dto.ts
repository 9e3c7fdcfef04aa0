import { IsDefined, IsEmail, IsISO8601, IsOptional, IsString, Length, MaxLength } from 'class-validator';

const EMAIL_MESSAGE = { message: 'email must be a valid email address' };

export class CreateInvitationAttributes {
  @IsDefined() @IsEmail({}, EMAIL_MESSAGE) @MaxLength(254) email!: string;
  /** Default: seven days from now. */
  @IsOptional() @IsISO8601({ strict: true }) expires_at?: string;
}

export class UpdateInvitationAttributes {
  @IsOptional() @IsEmail({}, EMAIL_MESSAGE) @MaxLength(254) email?: string;
  @IsOptional() @IsISO8601({ strict: true }) expires_at?: string;
}

export class AcceptInvitationAttributes {
  @IsDefined() @IsString() @Length(1, 512) invitation_token!: string;
}
