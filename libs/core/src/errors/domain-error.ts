export interface FieldError {
  field: string;
  message: string;
}

/** How a domain error is shown to the caller; the filter adds `instance` and `requestId`. */
export interface ProblemShape {
  status: number;
  title: string;
  errors?: FieldError[];
}

/**
 * The base of every module's error. A module declares its own codes as an enum and maps each code to a status with
 * an exhaustive switch in `problem()`; the one exception filter turns it into problem+json.
 */
export abstract class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  abstract problem(): ProblemShape;
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}

export enum CommonErrorCode {
  ValidationFailed = 'validation_failed',
  NotFound = 'not_found',
  Forbidden = 'forbidden',
  Unauthorized = 'unauthorized',
  Conflict = 'conflict',
}

/** Errors that any module can raise. */
export class CommonError extends DomainError<CommonErrorCode> {
  constructor(
    code: CommonErrorCode,
    message: string,
    readonly fieldErrors?: FieldError[],
  ) {
    super(code, message);
  }

  static validation(errors: FieldError[], message = 'The request is not valid'): CommonError {
    return new CommonError(CommonErrorCode.ValidationFailed, message, errors);
  }

  problem(): ProblemShape {
    switch (this.code) {
      case CommonErrorCode.ValidationFailed:
        return { status: 400, title: 'Bad Request', errors: this.fieldErrors ?? [] };
      case CommonErrorCode.NotFound:
        return { status: 404, title: 'Not Found' };
      case CommonErrorCode.Forbidden:
        return { status: 403, title: 'Forbidden' };
      case CommonErrorCode.Unauthorized:
        return { status: 401, title: 'Unauthorized' };
      case CommonErrorCode.Conflict:
        return { status: 409, title: 'Conflict' };
      default:
        return assertNever(this.code);
    }
  }
}
