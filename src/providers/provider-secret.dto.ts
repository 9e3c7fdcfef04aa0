import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { SECRET_TYPES, SecretType } from './secret-schemas';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

/** `secret` is checked field by field against the provider's credential shapes by validateSecret. */
export class CreateProviderSecretAttributes {
  @Example('Prowler read-only keys') @IsOptional() @IsString() @Length(3, 100) name?: string | null;
  @Example('static') @IsDefined() @IsIn(SECRET_TYPES) secret_type!: SecretType;
  @Example({ aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) @IsDefined() secret!: unknown;
}

export class UpdateProviderSecretAttributes {
  @Example('Prowler scan role') @IsOptional() @IsString() @Length(3, 100) name?: string | null;
  @Example('role') @Omittable() @IsIn(SECRET_TYPES) secret_type?: SecretType;
  @Example({ role_arn: 'arn:aws:iam::123456789012:role/ProwlerScan', external_id: 'acme-prowler-7f3a' }) @Omittable() secret?: unknown;
}
