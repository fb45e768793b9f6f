import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum IntegrationErrorCode {
  UnknownProvider = 'integration_unknown_provider',
  JobNotFound = 'integration_job_not_found',
  QueueUnavailable = 'integration_queue_unavailable',
}

export class IntegrationError extends DomainError<IntegrationErrorCode> {
  static unknownProvider(): IntegrationError {
    return new IntegrationError(IntegrationErrorCode.UnknownProvider, 'No such provider: use user-service, payment-service or communication-service');
  }

  static jobNotFound(): IntegrationError {
    return new IntegrationError(IntegrationErrorCode.JobNotFound, 'No such job in this organization');
  }

  static queueUnavailable(): IntegrationError {
    return new IntegrationError(IntegrationErrorCode.QueueUnavailable, 'The job queue did not answer in time; try again shortly (a repeated sync joins one that is still queued)');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case IntegrationErrorCode.UnknownProvider:
      case IntegrationErrorCode.JobNotFound:
        return { status: 404, title: 'Not Found' };
      case IntegrationErrorCode.QueueUnavailable:
        return { status: 503, title: 'Service Unavailable' };
      default:
        return assertNever(this.code);
    }
  }
}
