import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum WebhookSecretErrorCode {
  UnknownProvider = 'webhook_secret_unknown_provider',
}

export class WebhookSecretError extends DomainError<WebhookSecretErrorCode> {
  static unknownProvider(): WebhookSecretError {
    return new WebhookSecretError(WebhookSecretErrorCode.UnknownProvider, 'No such provider: use user-service, payment-service or communication-service');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case WebhookSecretErrorCode.UnknownProvider:
        return { status: 404, title: 'Not Found' };
      default:
        return assertNever(this.code);
    }
  }
}
