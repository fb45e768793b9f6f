import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'tenantry:public';
/** Marks a route that needs no token (login, health, webhooks with their own signature). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
