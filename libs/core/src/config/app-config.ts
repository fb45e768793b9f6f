import { Config } from './config';

/** Injection token for the parsed configuration: inject `AppConfig` and read typed fields. */
export abstract class AppConfig {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface AppConfig extends Config {}

export const CONFIG_NAMESPACE = 'tenantry';
