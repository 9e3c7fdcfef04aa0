import { IsBoolean, IsDefined, IsIn, IsOptional, IsString, MinLength } from 'class-validator';
import { INTEGRATION_TYPES, IntegrationType } from './integration-types';

/** `configuration` and `credentials` are checked per type by validateSettings, with pointers into them. */
export class CreateIntegrationAttributes {
  @IsDefined() @IsIn(INTEGRATION_TYPES, { message: `integration_type must be one of: ${INTEGRATION_TYPES.join(', ')}.` }) integration_type!: IntegrationType;
  @IsDefined() configuration!: unknown;
  @IsDefined() credentials!: unknown;
  @IsOptional() @IsBoolean() enabled?: boolean;
}

/** `integration_type` is read-only on update; it is accepted only when it repeats the current type. */
export class UpdateIntegrationAttributes {
  @IsOptional() @IsIn(INTEGRATION_TYPES, { message: `integration_type must be one of: ${INTEGRATION_TYPES.join(', ')}.` }) integration_type?: IntegrationType;
  @IsOptional() configuration?: unknown;
  @IsOptional() credentials?: unknown;
  @IsOptional() @IsBoolean() enabled?: boolean;
}

export class JiraDispatchAttributes {
  @IsDefined() @IsString() @MinLength(1) project_key!: string;
  @IsDefined() @IsString() @MinLength(1) issue_type!: string;
}
