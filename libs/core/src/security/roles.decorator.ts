import { SetMetadata } from '@nestjs/common';
import { Role } from '../context/tenant-context';

export const ROLES_KEY = 'tenantry:roles';
/** The roles that may call a route; the roles guard refuses others with 403. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
