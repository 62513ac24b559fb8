// Alone, with no imports, so that the classifier (under connect.ts) and the server-error reader (over it) share it.
/** Five characters of digits and capitals with a digit among them: EPIPE has the shape but is Node's. */
export function isSqlState(code: string | undefined): code is string {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && /\d/.test(code);
}
