import { IsDateString, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

export class ApiKeyCreateAttributes {
  @Example('CI pipeline') @IsString() @Length(3, 100) name!: string;
  @Example('2031-12-31T23:59:59Z') @Omittable() @IsDateString({ strict: true }) expires_at?: string;
}

export class ApiKeyUpdateAttributes {
  @Example('CI pipeline (nightly)') @IsString() @Length(3, 100) name!: string;
}
