import { IsNotEmpty, IsString, IsUUID, MaxLength } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

export class SignInAttributes {
  @Example('ana@example.com') @IsString() @IsNotEmpty() @MaxLength(254) email!: string;
  @Example('Correct-Horse-9-Battery') @IsString() @IsNotEmpty() @MaxLength(1024) password!: string;
  /** The contract's optional tenant choice at sign-in, checked against the user's memberships. */
  @Example('3f0c9d2e-8a41-4b6e-9c1d-2e7f5a8b4c60') @Omittable() @IsUUID() tenant_id?: string;
}

export class RefreshAttributes {
  @Example('eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl') @IsString() @IsNotEmpty() @MaxLength(4096) refresh!: string;
}

export class SwitchTenantAttributes {
  @Example('b7e2a4c1-5d6f-4e8a-9b0c-1d2e3f4a5b6c') @IsUUID() tenant_id!: string;
}
