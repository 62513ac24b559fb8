// The floor for any command that touches the database: connect with pg and run `select 1`.
import pg from 'pg';

const client = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL });
await client.connect();
await client.query('select 1');
await client.end();
