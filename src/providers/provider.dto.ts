import { IsDefined, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { PROVIDER_TYPES, ProviderType } from './provider-uid-rules';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

/** The uid's shape and length are checked per provider type by validateProviderUid, with its `<provider>-uid` code. */
export class CreateProviderAttributes {
  @Example('aws') @IsDefined() @IsIn(PROVIDER_TYPES) provider!: ProviderType;
  @Example('123456789012') @IsDefined() @IsString() uid!: string;
  @Example('production') @IsOptional() @IsString() @Length(3, 100) alias?: string | null;
}

/** The provider type never changes: a different type is a different provider. */
export class UpdateProviderAttributes {
  @Example('123456789012') @Omittable() @IsString() uid?: string;
  @Example('production-eu') @IsOptional() @IsString() @Length(3, 100) alias?: string | null;
}
