import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import type { FilterType } from './clause/rule-combiner';

export const FILTER_TYPES: readonly FilterType[] = ['Regular', 'Base'];

/**
 * The attributes of a rule. POST and PUT validate every field (a missing
 * optional one becomes null); PATCH validates only the fields sent.
 */
export class RlsRuleAttributes {
  @IsString() @Length(1, 255) name!: string;
  @IsOptional() @IsString() @MaxLength(4000) description?: string | null;
  @IsIn(FILTER_TYPES, { message: `filter_type must be one of ${FILTER_TYPES.join(', ')}` }) filter_type!: FilterType;
  @IsOptional() @IsString() @Length(1, 255) group_key?: string | null;
  // Its length and content are the compiler's to judge, with a detail naming the offending part.
  @IsString() clause!: string;
}

/** Attributes a PATCH may not set to null: they have no empty value. */
export const NON_NULLABLE_ATTRIBUTES = ['name', 'filter_type', 'clause'] as const;
