import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { PROVIDER_TYPES, ProviderType } from './provider-uid-rules';

/** The uid's shape and length are checked per provider type by validateProviderUid, with its `<provider>-uid` code. */
export class CreateProviderAttributes {
  @IsDefined() @IsIn(PROVIDER_TYPES) provider!: ProviderType;
  @IsDefined() @IsString() uid!: string;
  @IsOptional() @IsString() @Length(3, 100) alias?: string | null;
}

/** The provider type never changes: a different type is a different provider. */
export class UpdateProviderAttributes {
  @IsOptional() @IsString() uid?: string;
  @IsOptional() @IsString() @Length(3, 100) alias?: string | null;
}
