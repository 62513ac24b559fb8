import { randomBytes } from 'node:crypto';

let made = 0;

/** A Better Auth user's row as its signUpEmail writes it (its ids are random strings, not uuids), for Prisma Client. */
export function newUser(email = `user${++made}-${randomBytes(3).toString('hex')}@example.com`): { id: string; email: string; name: string } {
  return { id: randomBytes(16).toString('base64url'), email, name: 'Test User' };
}
