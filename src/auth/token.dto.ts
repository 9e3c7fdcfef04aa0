import { IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

export class SignInAttributes {
  @IsString() @IsNotEmpty() @MaxLength(254) email!: string;
  @IsString() @IsNotEmpty() @MaxLength(1024) password!: string;
  /** The contract's optional tenant choice at sign-in, checked against the user's memberships. */
  @IsOptional() @IsUUID() tenant_id?: string;
}

export class RefreshAttributes {
  @IsString() @IsNotEmpty() @MaxLength(4096) refresh!: string;
}

export class SwitchTenantAttributes {
  @IsUUID() tenant_id!: string;
}
