/**
 * What a statement does to a relation's rows. rewrite: every row read and written anew, indexes rebuilt; copy: the
 * files copied block by block (SET TABLESPACE), no row read; scan: every row read. A module of its own, so that
 * `migrate up`'s renderer can name an effect without loading the lock plans.
 */
export type Effect = 'rewrite' | 'copy' | 'scan' | 'none';

/** How a plan's line says what the statement does to a relation's rows. */
export const EFFECT_VERB: Record<Effect, string> = { rewrite: 'rewrites', copy: 'copies', scan: 'scans', none: 'locks' };
