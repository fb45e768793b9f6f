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
  isArray?: boolean;
}

type Class = abstract new (...args: never[]) => unknown;

/** The DTO class an `@ApiProperty({ type })` names, resolving `type: () => Dto`; null for primitives and schemas. */
function dtoClassOf(type: unknown): Class | null {
  const resolved = typeof type === 'function' && !type.prototype ? (type as () => unknown)() : type;
  if (typeof resolved !== 'function' || !resolved.prototype) return null;
  return Reflect.getMetadata(API_MODEL_PROPERTIES_ARRAY, resolved.prototype) ? (resolved as Class) : null;
}

interface PropertyShape {
  nullable: boolean;
  nested: Class | null;
  isArray: boolean;
}

/** Each DTO's properties as the shape rules need them, read from its metadata once (the pipe runs on every request). */
const shapes = new WeakMap<Class, Map<string, PropertyShape>>();

function shapeOf(dto: Class): Map<string, PropertyShape> {
  let shape = shapes.get(dto);
  if (!shape) {
    shape = new Map();
    const names = (Reflect.getMetadata(API_MODEL_PROPERTIES_ARRAY, dto.prototype) ?? []) as string[];
    for (const name of names.map((entry) => entry.replace(/^:/, ''))) {
      const property = (Reflect.getMetadata(API_MODEL_PROPERTIES, dto.prototype, name) ?? {}) as ApiPropertyMetadata;
      shape.set(name, { nullable: property.nullable === true, nested: dtoClassOf(property.type), isArray: property.isArray === true });
    }
    shapes.set(dto, shape);
  }
  return shape;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the DTO's OpenAPI metadata says about `input` that class-validator does not check the same way:
 * - `null` is refused for every property not declared `nullable` (in nested DTOs and array items too). Otherwise
 *   `@IsOptional()` skips a null as if the field were absent: a PATCH then writes null into a NOT NULL column (a 500),
 *   or drops the field silently (a 200 that did nothing).
 * - a property typed as a DTO must be an object, and one typed as a list of DTOs an array: `@ValidateNested()` accepts
 *   an empty array where it expects an object, and the service then reads fields of an array.
 * Array items themselves are left to the route (`@ValidateNested({ each: true })`, or a bulk route's per-row result).
 */
export function shapeErrors(dto: Class, input: Record<string, unknown>, parent = ''): FieldError[] {
  const shape = shapeOf(dto);
  const errors: FieldError[] = [];
  for (const key in input) {
    const value = input[key];
    const property = shape.get(key);
    if (value === null) {
      if (!property?.nullable) errors.push({ field: join(parent, key), message: `${join(parent, key)} must not be null` });
      continue;
    }
    const nested = property?.nested;
    if (!nested) continue;
    const field = join(parent, key);
    if (property.isArray) {
      if (!Array.isArray(value)) errors.push({ field, message: `${field} must be an array` });
      else value.forEach((item, index) => isPlainObject(item) && errors.push(...shapeErrors(nested, item, `${field}.${index}`)));
    } else if (!isPlainObject(value)) {
      errors.push({ field, message: `${field} must be an object` });
    } else {
      errors.push(...shapeErrors(nested, value, field));
    }
  }
  return errors;
}

const join = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);

/** The body of a route that takes a DTO: absent (validated as `{}`) or an object, never null, a list or a scalar. */
function bodyShapeErrors(dto: Class, body: unknown): FieldError[] {
  if (body === undefined) return [];
  if (!isPlainObject(body)) return [{ field: 'body', message: `body must be a JSON object${body === null ? ', not null' : ''}` }];
  return shapeErrors(dto, body);
}

/**
 * The one validation pipe: unknown fields are rejected (no mass assignment), `null` is refused wherever the DTO does not
 * declare it nullable, nested DTOs must have their declared shape (a new DTO gets both from its @ApiProperty alone),
 * and failures become 400 problem+json.
 */
class ProblemValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' || metadata.type === 'query' ? dtoClassOf(metadata.metatype) : null;
    if (dto) {
      const errors = metadata.type === 'body' ? bodyShapeErrors(dto, value) : isPlainObject(value) ? shapeErrors(dto, value) : [];
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
