import { DomainError, FieldError, ProblemShape, assertNever } from '../errors/domain-error';

export enum IdempotencyErrorCode {
  InvalidKey = 'idempotency_key_invalid',
  KeyReused = 'idempotency_key_reused',
  InProgress = 'idempotency_key_in_progress',
  Unavailable = 'idempotency_unavailable',
}

export class IdempotencyError extends DomainError<IdempotencyErrorCode> {
  static invalidKey(): IdempotencyError {
    return new IdempotencyError(IdempotencyErrorCode.InvalidKey, 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }

  static keyReused(): IdempotencyError {
    return new IdempotencyError(
      IdempotencyErrorCode.KeyReused,
      'This Idempotency-Key was already used with a different request; use a new key for a new request',
    );
  }

  static inProgress(): IdempotencyError {
    return new IdempotencyError(
      IdempotencyErrorCode.InProgress,
      'A request with this Idempotency-Key is still being processed; retry later with the same key',
    );
  }

  static unavailable(): IdempotencyError {
    return new IdempotencyError(
      IdempotencyErrorCode.Unavailable,
      'Idempotency keys cannot be checked right now; retry later, or send the request without Idempotency-Key',
    );
  }

  problem(): ProblemShape {
    switch (this.code) {
      case IdempotencyErrorCode.InvalidKey:
        return { status: 400, title: 'Bad Request', errors: [{ field: 'Idempotency-Key', message: this.message }] };
      case IdempotencyErrorCode.KeyReused:
        return { status: 422, title: 'Unprocessable Content' };
      case IdempotencyErrorCode.InProgress:
        return { status: 409, title: 'Conflict' };
      case IdempotencyErrorCode.Unavailable:
        return { status: 503, title: 'Service Unavailable' };
      default:
        return assertNever(this.code);
    }
  }
}

/** A 4xx domain error as it was stored with its key. */
export interface StoredProblem {
  code: string;
  message: string;
  status: number;
  title: string;
  errors?: FieldError[];
}

/** The first request's 4xx answer, thrown again for its retries so that the one filter writes the same problem. */
export class ReplayedProblemError extends DomainError<string> {
  constructor(private readonly stored: StoredProblem) {
    super(stored.code, stored.message);
  }

  problem(): ProblemShape {
    const { status, title, errors } = this.stored;
    return errors ? { status, title, errors } : { status, title };
  }
}
