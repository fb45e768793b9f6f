import { ValidationError, ValidationPipe } from '@nestjs/common';
import { CommonError, FieldError } from './domain-error';

/** Flattens class-validator's tree into `[{field: "admin.email", message}]`. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** The one validation pipe: unknown fields are rejected (no mass assignment), and failures become 400 problem+json. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => CommonError.validation(toFieldErrors(errors)),
  });
}
