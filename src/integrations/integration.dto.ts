import { IsBoolean, IsDefined, IsIn, IsString, MinLength } from 'class-validator';
import { INTEGRATION_TYPES, IntegrationType } from './integration-types';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

/** `configuration` and `credentials` are checked per type by validateSettings, with pointers into them. */
export class CreateIntegrationAttributes {
  @Example('amazon_s3') @IsDefined() @IsIn(INTEGRATION_TYPES, { message: `integration_type must be one of: ${INTEGRATION_TYPES.join(', ')}.` }) integration_type!: IntegrationType;
  @Example({ bucket_name: 'acme-prowler-reports', output_directory: 'prowler/output' }) @IsDefined() configuration!: unknown;
  @Example({ aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) @IsDefined() credentials!: unknown;
  @Example(true) @Omittable() @IsBoolean() enabled?: boolean;
}

/** `integration_type` is read-only on update; it is accepted only when it repeats the current type. */
export class UpdateIntegrationAttributes {
  @Example('amazon_s3') @Omittable() @IsIn(INTEGRATION_TYPES, { message: `integration_type must be one of: ${INTEGRATION_TYPES.join(', ')}.` }) integration_type?: IntegrationType;
  @Example({ bucket_name: 'acme-prowler-reports', output_directory: 'prowler/eu' }) @Omittable() configuration?: unknown;
  @Example({ aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) @Omittable() credentials?: unknown;
  @Example(false) @Omittable() @IsBoolean() enabled?: boolean;
}

export class JiraDispatchAttributes {
  @Example('SEC') @IsDefined() @IsString() @MinLength(1) project_key!: string;
  @Example('Task') @IsDefined() @IsString() @MinLength(1) issue_type!: string;
}
