import { IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';

export class TenantAttributes {
  @Example('Acme Security') @IsString() @Length(1, 100) name!: string;
}
