import { getMetadataStorage, ValidateIf } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * A body attribute a client may leave out but may not send as null, as in
 * Prowler's serializers ("This field may not be null"; parseResourceBody
 * refuses the null). @IsOptional, by contrast, lets null through to the
 * handler: keep it for attributes whose null means "clear it" (a provider's
 * alias, a scan's name).
 */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

const nullabilityOf = new WeakMap<Function, Map<string, boolean>>();

/**
 * The properties of a body's attributes class and whether each may be null
 * (declared @IsOptional). Worked out once per class: every request body is
 * checked against it.
 */
export function attributeNullability(target: Function): Map<string, boolean> {
  let nullable = nullabilityOf.get(target);
  if (nullable) return nullable;
  nullable = new Map<string, boolean>();
  const metadata = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false) as ValidationMetadata[];
  for (const entry of metadata) {
    const optional = entry.type === 'conditionalValidation' && entry.name === 'isOptional';
    nullable.set(entry.propertyName, (nullable.get(entry.propertyName) ?? false) || optional);
  }
  nullabilityOf.set(target, nullable);
  return nullable;
}
