import type { RuleText } from './rule.js';

export const constraintWithoutNotValid = {
  id: 'constraint-without-not-valid',
  severity: 'error',
  firesOn: 'ADD CONSTRAINT CHECK or FOREIGN KEY without NOT VALID on an existing table',
  why: 'adding a CHECK or FOREIGN KEY checks every existing row while holding a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key)',
  fix: 'ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT ... in a later migration (SHARE UPDATE EXCLUSIVE: writes go on)',
  examples: [
    { unsafe: 'alter table tasks add constraint tasks_rank_check check (priority is not null);', safe: 'alter table tasks add constraint tasks_rank_check check (priority is not null) not valid;' },
    { unsafe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id);', safe: 'alter table tasks add constraint tasks_owner_fkey foreign key (user_id) references users (id) not valid;' },
  ],
} as const satisfies RuleText;
