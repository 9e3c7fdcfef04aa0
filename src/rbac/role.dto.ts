import { IsBoolean, IsDefined, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

class RolePermissionAttributes {
  @Example(false) @Omittable() @IsBoolean() manage_users?: boolean;
  @Example(false) @Omittable() @IsBoolean() manage_account?: boolean;
  @Example(false) @Omittable() @IsBoolean() manage_billing?: boolean;
  @Example(false) @Omittable() @IsBoolean() manage_providers?: boolean;
  @Example(false) @Omittable() @IsBoolean() manage_integrations?: boolean;
  @Example(true) @Omittable() @IsBoolean() manage_scans?: boolean;
  @Example(true) @Omittable() @IsBoolean() unlimited_visibility?: boolean;
}

/** Permissions left out of a new role are off. */
export class CreateRoleAttributes extends RolePermissionAttributes {
  @Example('Auditor') @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateRoleAttributes extends RolePermissionAttributes {
  @Example('Senior auditor') @Omittable() @IsString() @Length(1, 255) name?: string;
}
