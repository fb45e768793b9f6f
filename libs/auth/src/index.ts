export * from './auth.errors';
export * from './auth.module';
export * from './auth.service';
export * from './guards';
export * from './principal';
export * from './token.service';
export * from './invitations';
export * from './sso';
