import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { CommonError, FieldError } from './domain-error';

/** Flattens class-validator's tree into `[{field: "admin.email", message}]`. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** Where @nestjs/swagger keeps @ApiProperty options (its DECORATORS constants, which it does not export at its root). */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';
const API_MODEL_PROPERTIES_ARRAY = 'swagger/apiModelPropertiesArray';

interface ApiPropertyMetadata {
  nullable?: boolean;
  type?: unknown;
}

type Class = abstract new (...args: never[]) => unknown;

/** The DTO class an `@ApiProperty({ type })` names, resolving `type: () => Dto`; null for primitives and schemas. */
function dtoClassOf(type: unknown): Class | null {
  const resolved = typeof type === 'function' && !type.prototype ? (type as () => unknown)() : type;
  if (typeof resolved !== 'function' || !resolved.prototype) return null;
  return Reflect.getMetadata(API_MODEL_PROPERTIES_ARRAY, resolved.prototype) ? (resolved as Class) : null;
}

/**
 * `null` for every property of `body` (and of the DTOs nested in it, array items included) that the DTO's OpenAPI
 * metadata does not declare `nullable`. Without this, `@IsOptional()` skips a null as if the field were absent: a PATCH
 * then writes null into a NOT NULL column (a 500), or drops the field silently (a 200 that did nothing).
 */
export function nullFieldErrors(dto: Class, body: unknown, parent = ''): FieldError[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  const errors: FieldError[] = [];
  for (const key of Object.keys(body)) {
    const value = (body as Record<string, unknown>)[key];
    const field = parent ? `${parent}.${key}` : key;
    const property = Reflect.getMetadata(API_MODEL_PROPERTIES, dto.prototype, key) as ApiPropertyMetadata | undefined;
    if (value === null) {
      if (!property?.nullable) errors.push({ field, message: `${field} must not be null` });
      continue;
    }
    const nested = property && typeof value === 'object' ? dtoClassOf(property.type) : null;
    if (!nested) continue;
    if (Array.isArray(value)) value.forEach((item, index) => errors.push(...itemNullErrors(nested, item, `${field}.${index}`)));
    else errors.push(...nullFieldErrors(nested, value, field));
  }
  return errors;
}

function itemNullErrors(dto: Class, item: unknown, field: string): FieldError[] {
  return item === null ? [{ field, message: `${field} must not be null` }] : nullFieldErrors(dto, item, field);
}

/**
 * The one validation pipe: unknown fields are rejected (no mass assignment), `null` is refused wherever the DTO does not
 * declare it nullable (new DTOs get that from their @ApiProperty alone), and failures become 400 problem+json.
 */
class ProblemValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' || metadata.type === 'query' ? dtoClassOf(metadata.metatype) : null;
    if (dto) {
      const errors = nullFieldErrors(dto, value);
      if (errors.length > 0) throw CommonError.validation(errors);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ProblemValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => CommonError.validation(toFieldErrors(errors)),
  });
}
