import { IsBoolean, IsDefined, IsOptional, IsString, Length } from 'class-validator';

class RolePermissionAttributes {
  @IsOptional() @IsBoolean() manage_users?: boolean;
  @IsOptional() @IsBoolean() manage_account?: boolean;
  @IsOptional() @IsBoolean() manage_billing?: boolean;
  @IsOptional() @IsBoolean() manage_providers?: boolean;
  @IsOptional() @IsBoolean() manage_integrations?: boolean;
  @IsOptional() @IsBoolean() manage_scans?: boolean;
  @IsOptional() @IsBoolean() unlimited_visibility?: boolean;
}

/** Permissions left out of a new role are off. */
export class CreateRoleAttributes extends RolePermissionAttributes {
  @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateRoleAttributes extends RolePermissionAttributes {
  @IsOptional() @IsString() @Length(1, 255) name?: string;
}
