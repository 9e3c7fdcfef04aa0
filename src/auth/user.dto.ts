import { IsEmail, IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Example } from '../common/jsonapi/example';

export class SignUpAttributes {
  @Example('Ana Souza') @IsString() @Length(3, 150) name!: string;
  @Example('ana@example.com') @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email!: string;
  @Example('Correct-Horse-9-Battery') @IsString() @IsNotEmpty() password!: string;
  @Example('Acme Corp') @IsOptional() @IsString() @MaxLength(150) company_name?: string;
}

export class UpdateUserAttributes {
  @Example('Ana M. Souza') @IsOptional() @IsString() @Length(3, 150) name?: string;
  @Example('ana.souza@example.com') @IsOptional() @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email?: string;
  @Example('Stapled-Battery-4-Horse') @IsOptional() @IsString() @IsNotEmpty() password?: string;
  @Example('Acme Corp') @IsOptional() @IsString() @MaxLength(150) company_name?: string;
  /** Needed to change the password or the email. */
  @Example('Correct-Horse-9-Battery') @IsOptional() @IsString() @IsNotEmpty() @MaxLength(1024) current_password?: string;
}
