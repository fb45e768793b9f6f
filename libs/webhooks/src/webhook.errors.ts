import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum WebhookErrorCode {
  UnknownEndpoint = 'webhook_unknown_endpoint',
  BadSignature = 'webhook_bad_signature',
  BadBody = 'webhook_bad_body',
  RateLimited = 'webhook_rate_limited',
  EventNotFound = 'webhook_event_not_found',
  NotReplayable = 'webhook_event_not_replayable',
}

export class WebhookError extends DomainError<WebhookErrorCode> {
  retryAfterSeconds?: number;

  static unknownEndpoint(): WebhookError {
    return new WebhookError(WebhookErrorCode.UnknownEndpoint, 'No such organization or provider');
  }

  static badSignature(): WebhookError {
    return new WebhookError(WebhookErrorCode.BadSignature, 'Missing or bad signature, or a timestamp more than 300 s from now');
  }

  static badBody(message: string): WebhookError {
    return new WebhookError(WebhookErrorCode.BadBody, message);
  }

  static rateLimited(retryAfterSeconds: number): WebhookError {
    const error = new WebhookError(WebhookErrorCode.RateLimited, "Too many webhook requests for this organization; retry after the time in Retry-After");
    error.retryAfterSeconds = Math.max(1, retryAfterSeconds);
    return error;
  }

  static eventNotFound(): WebhookError {
    return new WebhookError(WebhookErrorCode.EventNotFound, 'No such event in this organization');
  }

  static notReplayable(status: string): WebhookError {
    return new WebhookError(WebhookErrorCode.NotReplayable, `Only a dead or failed event can be replayed; this one is ${status}`);
  }

  problem(): ProblemShape {
    switch (this.code) {
      case WebhookErrorCode.UnknownEndpoint:
      case WebhookErrorCode.EventNotFound:
        return { status: 404, title: 'Not Found' };
      case WebhookErrorCode.BadSignature:
        return { status: 401, title: 'Unauthorized' };
      case WebhookErrorCode.BadBody:
        return { status: 400, title: 'Bad Request' };
      case WebhookErrorCode.RateLimited:
        return { status: 429, title: 'Too Many Requests' };
      case WebhookErrorCode.NotReplayable:
        return { status: 409, title: 'Conflict' };
      default:
        return assertNever(this.code);
    }
  }
}
