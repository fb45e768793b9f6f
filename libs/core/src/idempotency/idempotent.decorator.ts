import { UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * Makes a POST route honour `Idempotency-Key` (see IdempotencyInterceptor). Applied per route rather than globally:
 * an interceptor on every route costs throughput even where no key is ever sent.
 */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Up to 255 printable ASCII characters. The same key with the same body within 24 h answers the first response again ' +
        '(with Idempotency-Replayed: true); with another body, 422. Scoped to your organization.',
    }),
  );
