import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IDEMPOTENCY_SEALED, IdempotencyInterceptor } from './idempotency.interceptor';

export interface IdempotentOptions {
  /**
   * The answer holds a secret (a new webhook secret, say): it is stored for replay sealed with ENCRYPTION_KEY
   * (SecretBox), never as plaintext in Redis.
   */
  sealResponse?: boolean;
}

/**
 * Makes a POST route honour `Idempotency-Key` (see IdempotencyInterceptor). Applied per route rather than globally:
 * an interceptor on every route costs throughput even where no key is ever sent.
 */
export const Idempotent = (options: IdempotentOptions = {}) =>
  applyDecorators(
    ...(options.sealResponse ? [SetMetadata(IDEMPOTENCY_SEALED, true)] : []),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Up to 255 printable ASCII characters. The same key with the same body within 24 h answers the first response again ' +
        '(with Idempotency-Replayed: true); with another body, 422. Scoped to your organization.',
    }),
  );
