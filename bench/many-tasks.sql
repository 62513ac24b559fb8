-- 100 000 tasks for the inspect-indexes test and benchmark: 901 users, the first (by email) with 10 000 tasks,
-- the others with 100 each; 1 task in 500 has the rare tag "urgent", so the tag index is worth using.
insert into "user" (id, email, name) select 'user' || g, 'user' || g || '@example.com', 'User ' || g from generate_series(1, 901) g;
insert into tasks (user_id, title, status, tags, due_date, created_at)
select u.id, 'task ' || g, (case when g % 3 = 0 then 'completed' else 'pending' end)::task_status,
       case when g % 500 = 0 then array['urgent'] else array['tag' || (g % 20)] end,
       now() + (g % 60) * interval '1 day', now() - g * interval '1 minute'
  from (select id, row_number() over (order by email) as n from "user") u
 cross join lateral generate_series(1, case when u.n = 1 then 10000 else 100 end) g;
analyze "user";
analyze tasks;
