import { IsEmail, IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';

export class SignUpAttributes {
  @IsString() @Length(3, 150) name!: string;
  @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email!: string;
  @IsString() @IsNotEmpty() password!: string;
  @IsOptional() @IsString() @MaxLength(150) company_name?: string;
}

export class UpdateUserAttributes {
  @IsOptional() @IsString() @Length(3, 150) name?: string;
  @IsOptional() @IsEmail({}, { message: 'email must be a valid email address' }) @MaxLength(254) email?: string;
  @IsOptional() @IsString() @IsNotEmpty() password?: string;
  @IsOptional() @IsString() @MaxLength(150) company_name?: string;
  /** Needed to change the password or the email. */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(1024) current_password?: string;
}
