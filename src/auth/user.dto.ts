import { IsEmail, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

export class SignUpAttributes {
  @Example('Ana Souza') @IsString() @Length(3, 150) name!: string;
  @Example('ana@example.com') @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email!: string;
  @Example('Correct-Horse-9-Battery') @IsString() @IsNotEmpty() password!: string;
  @Example('Acme Corp') @Omittable() @IsString() @MaxLength(150) company_name?: string;
}

export class UpdateUserAttributes {
  @Example('Ana M. Souza') @Omittable() @IsString() @Length(3, 150) name?: string;
  @Example('ana.souza@example.com') @Omittable() @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email?: string;
  @Example('Stapled-Battery-4-Horse') @Omittable() @IsString() @IsNotEmpty() password?: string;
  @Example('Acme Corp') @Omittable() @IsString() @MaxLength(150) company_name?: string;
  /** Needed to change the password or the email. */
  @Example('Correct-Horse-9-Battery') @Omittable() @IsString() @IsNotEmpty() @MaxLength(1024) current_password?: string;
}
