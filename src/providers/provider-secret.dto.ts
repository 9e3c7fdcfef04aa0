import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { SECRET_TYPES, SecretType } from './secret-schemas';

/** `secret` is checked field by field against the provider's credential shapes by validateSecret. */
export class CreateProviderSecretAttributes {
  @IsOptional() @IsString() @Length(3, 100) name?: string | null;
  @IsDefined() @IsIn(SECRET_TYPES) secret_type!: SecretType;
  @IsDefined() secret!: unknown;
}

export class UpdateProviderSecretAttributes {
  @IsOptional() @IsString() @Length(3, 100) name?: string | null;
  @IsOptional() @IsIn(SECRET_TYPES) secret_type?: SecretType;
  @IsOptional() secret?: unknown;
}
