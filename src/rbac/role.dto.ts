import { IsBoolean, IsDefined, IsOptional, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';

class RolePermissionAttributes {
  @Example(false) @IsOptional() @IsBoolean() manage_users?: boolean;
  @Example(false) @IsOptional() @IsBoolean() manage_account?: boolean;
  @Example(false) @IsOptional() @IsBoolean() manage_billing?: boolean;
  @Example(false) @IsOptional() @IsBoolean() manage_providers?: boolean;
  @Example(false) @IsOptional() @IsBoolean() manage_integrations?: boolean;
  @Example(true) @IsOptional() @IsBoolean() manage_scans?: boolean;
  @Example(true) @IsOptional() @IsBoolean() unlimited_visibility?: boolean;
}

/** Permissions left out of a new role are off. */
export class CreateRoleAttributes extends RolePermissionAttributes {
  @Example('Auditor') @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateRoleAttributes extends RolePermissionAttributes {
  @Example('Senior auditor') @IsOptional() @IsString() @Length(1, 255) name?: string;
}
