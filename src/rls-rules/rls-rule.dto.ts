import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import type { FilterType } from './clause/rule-combiner';
import { Example } from '../common/jsonapi/example';

export const FILTER_TYPES: readonly FilterType[] = ['Regular', 'Base'];

/**
 * The attributes of a rule. POST and PUT validate every field (a missing
 * optional one becomes null); PATCH validates only the fields sent.
 */
export class RlsRuleAttributes {
  @Example('EU regions only') @IsString() @Length(1, 255) name!: string;
  @Example('Analysts of the EU team see EU findings only.') @IsOptional() @IsString() @MaxLength(4000) description?: string | null;
  @Example('Regular') @IsIn(FILTER_TYPES, { message: `filter_type must be one of ${FILTER_TYPES.join(', ')}` }) filter_type!: FilterType;
  @Example('region') @IsOptional() @IsString() @Length(1, 255) group_key?: string | null;
  // Its length and content are the compiler's to judge, with a detail naming the offending part.
  @Example("region IN ('eu-west-1', 'eu-central-1')") @IsString() clause!: string;
}

/** Attributes a PATCH may not set to null: they have no empty value. */
export const NON_NULLABLE_ATTRIBUTES = ['name', 'filter_type', 'clause'] as const;
