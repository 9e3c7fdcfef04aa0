import { IsDefined, IsOptional, IsString, Length } from 'class-validator';

export class CreateProviderGroupAttributes {
  @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateProviderGroupAttributes {
  @IsOptional() @IsString() @Length(1, 255) name?: string;
}
