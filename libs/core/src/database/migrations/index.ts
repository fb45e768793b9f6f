import { Foundation1732550000000 } from './1732550000000-foundation';

/** Every migration, in order. Listed explicitly so that the compiled app, the CLI and the tests run the same set. */
export const MIGRATIONS = [Foundation1732550000000];
