import { randomBytes, type ScryptOptions, scrypt } from 'node:crypto';

/**
 * Password hashes that Better Auth verifies. Better Auth 1.7 hashes with scrypt by default (its
 * `@better-auth/utils/password`: N 16384, r 16, p 1, a 64-byte key, the password NFKC-normalised, a random
 * 16-byte salt used as its hex text) and stores `<salt hex>:<key hex>` in the credential account's `password`.
 * An app may configure it to hash with bcrypt instead (`emailAndPassword.password.hash/verify`), and todo-db's
 * own users before Better Auth had bcrypt hashes: `betterAuthPassword()` verifies both.
 */
export const PASSWORD_HASHES = ['scrypt', 'bcrypt'] as const;
export type PasswordHashAlgorithm = (typeof PASSWORD_HASHES)[number];

export interface PasswordHashing {
  algorithm: PasswordHashAlgorithm;
  /** bcrypt's cost (4-15); only with bcrypt. */
  bcryptCost?: number;
}

export const DEFAULT_BCRYPT_COST = 12;
const SCRYPT = { N: 16384, r: 16, p: 1, keyLength: 64 };
const SCRYPT_OPTIONS: ScryptOptions = { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 };
const BCRYPT_PREFIX = /^\$2[aby]\$/;

export async function hashPassword(password: string, { algorithm, bcryptCost = DEFAULT_BCRYPT_COST }: PasswordHashing): Promise<string> {
  if (algorithm === 'bcrypt') return (await bcrypt()).hash(password, bcryptCost);
  const salt = randomBytes(16).toString('hex');
  return `${salt}:${(await scryptKey(password, salt)).toString('hex')}`;
}

/** True when `password` matches `hash`, a scrypt hash as Better Auth writes it or a bcrypt one. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (BCRYPT_PREFIX.test(hash)) return (await bcrypt()).compare(password, hash);
  const [salt, key] = hash.split(':');
  if (!salt || !key) return false;
  return (await scryptKey(password, salt)).toString('hex') === key;
}

/**
 * For Better Auth's `emailAndPassword.password`: new passwords hashed as configured (scrypt, Better Auth's own
 * default, unless bcrypt is asked for), and both kinds verified, so users whose hashes came from todo-db's old
 * `users` table or a bcrypt seed sign in beside those Better Auth hashed.
 */
export function betterAuthPassword(hashing: PasswordHashing = { algorithm: 'scrypt' }) {
  return {
    hash: (password: string) => hashPassword(password, hashing),
    verify: ({ hash, password }: { hash: string; password: string }) => verifyPassword(hash, password),
  };
}

function scryptKey(password: string, salt: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, SCRYPT.keyLength, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** bcryptjs is loaded only when a bcrypt hash is made or checked. */
async function bcrypt() {
  return (await import('bcryptjs')).default;
}
