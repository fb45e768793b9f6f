import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum OrganizationErrorCode {
  NotFound = 'organization_not_found',
  SlugTaken = 'organization_slug_taken',
  Forbidden = 'organization_forbidden',
}

export class OrganizationError extends DomainError<OrganizationErrorCode> {
  static notFound(): OrganizationError {
    return new OrganizationError(OrganizationErrorCode.NotFound, 'Organization not found');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case OrganizationErrorCode.NotFound:
        return { status: 404, title: 'Not Found' };
      case OrganizationErrorCode.SlugTaken:
        return { status: 409, title: 'Conflict' };
      case OrganizationErrorCode.Forbidden:
        return { status: 403, title: 'Forbidden' };
      default:
        return assertNever(this.code);
    }
  }
}
