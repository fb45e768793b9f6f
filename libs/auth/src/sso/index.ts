export * from './sso-connection.entity';
export * from './sso.controller';
export * from './sso.dto';
export * from './sso.errors';
export * from './sso.service';
