import { IsString, Length } from 'class-validator';

export class TenantAttributes {
  @IsString() @Length(1, 100) name!: string;
}
