/**
 * Allow comments: `-- todo-db-lint: allow <rule>[, <rule>] -- <reason>` in the comment lines right above a
 * statement silences those rules for that statement. The reason is required; a malformed comment is itself a
 * finding, so a typo never silences anything by accident.
 */
export interface Allow {
  rules: string[];
  reason: string;
}

export interface AllowProblem {
  /** 1-based line of the comment. */
  line: number;
  message: string;
}

const MARKER = /^\s*--\s*todo-db-lint:\s*(.*?)\s*$/;
const ALLOW = /^allow\s+(.+?)(?:\s+--\s*(.*))?$/;

export interface AllowComments {
  /** The allow for the statement that starts on this line (1-based), if any. */
  forStatementAt(line: number): Allow | undefined;
  problems: AllowProblem[];
}

/** `isRuleId` comes from the rules' registry, which itself reads allow comments (the rule allow-comment-invalid). */
export function readAllowComments(script: string, isRuleId: (id: string) => boolean): AllowComments {
  const lines = script.split('\n');
  // Which lines are comments, one byte each: the lines' own strings would stay alive with the walk.
  const comments = Uint8Array.from(lines, (text) => (/^\s*--/.test(text) ? 1 : 0));
  const allows = new Map<number, Allow>();
  const problems: AllowProblem[] = [];
  lines.forEach((text, index) => {
    const marker = MARKER.exec(text);
    if (!marker) return;
    const parsed = parseAllow(marker[1] ?? '', isRuleId);
    if ('message' in parsed) problems.push({ line: index + 1, message: parsed.message });
    else allows.set(index + 1, parsed);
  });
  return {
    problems,
    forStatementAt(line) {
      // The run of comment lines directly above the statement: other comments may sit between.
      for (let above = line - 1; above >= 1 && comments[above - 1] === 1; above--) {
        const allow = allows.get(above);
        if (allow) return allow;
      }
      return undefined;
    },
  };
}

function parseAllow(text: string, isRuleId: (id: string) => boolean): Allow | { message: string } {
  const match = ALLOW.exec(text);
  if (!match) return { message: `"todo-db-lint: ${text}" is not an allow comment; write -- todo-db-lint: allow <rule> -- <reason>` };
  const ids = (match[1] ?? '').split(/[\s,]+/).filter(Boolean);
  const unknown = ids.filter((id) => !isRuleId(id));
  if (unknown.length > 0) return { message: `unknown rule ${unknown.map((id) => `"${id}"`).join(', ')} in an allow comment` };
  const reason = (match[2] ?? '').trim();
  if (!reason)
    return { message: `the allow comment for ${ids.join(', ')} gives no reason; write -- todo-db-lint: allow ${ids.join(', ')} -- <why it is safe here>` };
  return { rules: ids, reason };
}
