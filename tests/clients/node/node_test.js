// Node.js with the npm odbc package (built from source against Debian's unixODBC) against
// the local Lakebase through the real unixODBC and the driver: DSN and DSN-less connects,
// bound parameters read back exactly, 100,000 rows, and the errors a user sees.
// Run by tests/clients/node_test.sh, with the ctest fixture's environment.
'use strict';
const fs = require('fs');
const odbc = require('odbc');

const state = process.env.LAKEBASE_LOCAL_STATE;
const clientId = process.env.LAKEBASE_CLIENT_ID;
const secret = fs.readFileSync(`${state}/client-secret`, 'utf8').split('\n')[0].trim();
const dsnless = `Driver={${process.env.LAKEBASE_DRIVER}};DatabricksHost=${process.env.LAKEBASE_EMULATOR_URL};` +
  `ClientID=${clientId};ClientSecret={${secret}};Endpoint=projects/demo/branches/main/endpoints/primary;` +
  `Servername=localhost;Port=${process.env.LAKEBASE_PG_PORT};CAFile={${state}/ca.pem}`;
const text = 'Zoë 日本 🚀';
const numeric = '123456789012345678901234567890.12345';
const blob = Buffer.from(Array.from({length: 1024}, (_, i) => i % 256));

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { console.log(`ok   ${name}`); passed++; }
  else { console.log(`FAIL ${name} ${String(detail).slice(0, 400)}`); failed++; }
}
const states = (e) => (e.odbcErrors || []).map((r) => r.state);
const messages = (e) => (e.odbcErrors || []).map((r) => r.message).join(' | ');

async function main() {
  for (const [how, cs] of [['DSN', 'DSN=lakebase-local'], ['DSN-less', dsnless]]) {
    try {
      const cn = await odbc.connect(cs);
      const rows = await cn.query('SELECT current_user AS u, current_database() AS d');
      check(`identity ${how}`, rows[0].u === clientId && rows[0].d === 'databricks_postgres', JSON.stringify(rows[0]));
      await cn.close();
    } catch (e) {
      check(`identity ${how}`, false, messages(e) || e);
    }
  }

  const cn = await odbc.connect('DSN=lakebase-local');
  await cn.query('DROP TABLE IF EXISTS node_types');
  await cn.query('CREATE TABLE node_types (i integer, n numeric(40,5), t text, ts timestamp with time zone, ' +
                 'bin bytea, z text)');
  try {
    await cn.query("INSERT INTO node_types VALUES (?, ?, ?, ?, ?, ?)",
                   [-2147483648, numeric, text, '2026-11-26 14:37:51.123456+00', blob, null]);
    await cn.query("SET TIME ZONE 'UTC'");
    const rows = await cn.query("SELECT i, CAST(n AS text) AS n, t, CAST(ts AS text) AS ts, bin, z FROM node_types");
    const r = rows[0];
    check('round trip of every type', r.i === -2147483648 && r.n === numeric && r.t === text &&
          r.ts === '2026-11-26 14:37:51.123456+00' && Buffer.from(r.bin).equals(blob) && r.z === null,
          JSON.stringify({...r, bin: r.bin && r.bin.byteLength}));
  } catch (e) {
    check('round trip of every type', false, messages(e) || e);
  }
  await cn.query('DROP TABLE node_types');

  const many = await cn.query('SELECT g FROM generate_series(1, 100000) g');
  const sum = many.reduce((s, r) => s + Number(r.g), 0);
  check('100,000 rows', many.length === 100000 && sum === 5000050000, `${many.length} rows, sum ${sum}`);

  try {
    await cn.query('SELECT * FROM no_such_table');
    check('SQL error shows its SQLSTATE', false, 'no error');
  } catch (e) {
    check('SQL error shows its SQLSTATE', states(e).includes('42P01'), messages(e));
  }
  await cn.close();

  try {
    await odbc.connect('DSN=lakebase-local;ClientSecret={not-the-secret}');
    check('wrong secret: 28000 and the fix', false, 'connected');
  } catch (e) {
    const m = messages(e);
    check('wrong secret: 28000 and the fix', states(e)[0] === '28000' && m.includes('Check ClientID and ClientSecret') &&
          !m.includes('not-the-secret'), `${states(e)} ${m}`);
  }
}

main().catch((e) => { check('no unexpected error', false, messages(e) || e.stack); }).finally(() => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
});
