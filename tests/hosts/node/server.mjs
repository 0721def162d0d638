// pgrest's second host: the same translator component as pgrest-host's,
// transpiled by jco, serving HTTP with node:http and PostgreSQL with
// node-postgres. Every PostgREST rule (configuration, introspection SQL,
// planning, statuses, headers, error bodies) comes from the component through
// wit/translator.wit; this file only moves bytes between sockets.
//
//   node transpile.mjs <component.wasm> <dir>
//   node server.mjs <dir> [--exit-with-stdin]
//
// Configured by PGRST_* variables (libpq's PG* variables fill what db-uri
// leaves out). Prints "pgrest-node listening on http://HOST:PORT" when ready.
// --exit-with-stdin: exit when stdin closes (a test harness that dies, even
// by SIGKILL, takes this server with it).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { errPayload, loadTranslator } from './translator.mjs';

const [dir, ...flags] = process.argv.slice(2);
if (!dir) fail('usage: node server.mjs <transpiled-translator-dir> [--exit-with-stdin]');
if (flags.includes('--exit-with-stdin')) process.stdin.on('end', () => process.exit(0)).resume();

// 1. Configuration: the component applies PostgREST's rules to our environment,
// then again with the settings the database holds (in-database configuration).
let api = await loadTranslator(dir);
const env = Object.entries(process.env);
const base = resolve([]);

const pool = new pg.Pool({
  ...connectionOptions(base.host.dbUri),
  max: base.host.dbPool,
  connectionTimeoutMillis: base.host.dbPoolAcquisitionTimeout * 1000,
  // Every column as PostgreSQL's text: the component casts what it reads.
  types: { getTypeParser: () => (text) => text },
});
pool.on('error', () => {}); // an idle connection died; the pool replaces it

const dbSettings = await readDbSettings(base.config);
const { host: settings, config } = resolve(dbSettings);
for (const warning of wit(() => api.configWarnings(config), 'configuration')) {
  console.error(`pgrest-node: warning: ${warning}`);
}

// 2.-3. Introspection, then the engine (the loaded schema cache).
const introspection = await introspect();
let engine = wit(() => api.Engine.load(config, introspection), 'loading the schema cache');

// 4. Per request: cors, verify-token, plan, run, respond.
const server = http.createServer((req, res) => {
  handle(req, res).catch(async (e) => {
    console.error('pgrest-node: request failed:', e);
    if (e instanceof WebAssembly.RuntimeError) await reinstantiate(); // a trap poisons the instance
    send(res, api.renderHostError(config, { tag: 'translator-failed', val: String(e) }));
  });
});
server.listen(settings.server.port, settings.server.host, () => {
  const { address, port } = server.address();
  console.log(`pgrest-node listening on http://${address.includes(':') ? `[${address}]` : address}:${port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => pool.end().then(() => process.exit(0))));
}

async function handle(req, res) {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  }
  // CORS first: a preflight is answered here; other CORS headers go on
  // whatever answers the request.
  const cors = engine.cors(req.method, headers);
  if (cors.tag === 'preflight') return send(res, cors.val);
  const corsHeaders = cors.tag === 'headers' ? cors.val : [];
  const response = await serve(req, headers);
  send(res, { ...response, headers: [...response.headers, ...corsHeaders] });
}

async function serve(req, headers) {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  let claims;
  const authorization = headers.find(([name]) => name === 'authorization');
  if (authorization) {
    const check = engine.verifyToken(authorization[1]);
    if (check.tag === 'invalid') return check.val;
    if (check.tag === 'valid') claims = check.val;
  }
  const now = BigInt(Math.floor(Date.now() / 1000));
  // Refusals the head decides are answered before the body is read.
  const hasBody = headers.some(([name]) => name === 'content-length' || name === 'transfer-encoding');
  if (hasBody) {
    const refused = engine.screen(req.method, path, headers, claims, now);
    if (refused !== undefined) return refused.response;
  }
  const body = await readBody(req);
  const request = { method: req.method, path, query: q < 0 ? '' : req.url.slice(q + 1), headers, body };
  const outcome = engine.plan(request, claims, now);
  if (outcome.tag === 'reply') return outcome.val.response;
  return execute(outcome.val, body);
}

/** Runs a plan in one transaction and asks the component for the response. */
async function execute(plan, requestBody) {
  let client;
  try {
    client = await pool.connect();
  } catch (e) {
    return api.renderHostError(
      config,
      /timeout exceeded when trying to connect/.test(e.message)
        ? { tag: 'pool-timeout' }
        : { tag: 'db-unreachable', val: e.message },
    );
  }
  let broken = false;
  try {
    const results = [];
    let bodyColumn = new Uint8Array();
    try {
      for (const statement of plan.statements) {
        const r = await run(client, statement, requestBody);
        if (statement.rows === 'to-respond') results.push(textRows(r.rows, 0));
        if (statement.rows === 'body') {
          bodyColumn = columnBytes(r, 0);
          results.push(textRows(r.rows, 1));
        }
      }
      if (plan.txEnd !== 'after-respond') await client.query(plan.txEnd === 'commit' ? 'COMMIT' : 'ROLLBACK');
    } catch (e) {
      if (!(e instanceof pg.DatabaseError)) {
        broken = true;
        return api.renderHostError(config, { tag: 'db-connection-lost', val: e.message });
      }
      await client.query('ROLLBACK'); // ends the failed transaction (a no-op if COMMIT failed)
      return engine.respondError(plan.context, {
        sqlstate: e.code,
        message: e.message,
        detail: e.detail ?? undefined,
        hint: e.hint ?? undefined,
      });
    }
    const answer = engine.respond(plan.context, results);
    if (plan.txEnd === 'after-respond') {
      // The answer stands either way (as in pgrest-host); a connection whose
      // transaction did not end cleanly is discarded.
      await client.query(answer.commit ? 'COMMIT' : 'ROLLBACK').catch(() => (broken = true));
    }
    const body = { empty: new Uint8Array(), 'from-statement': bodyColumn, bytes: answer.body.val }[answer.body.tag];
    return { status: answer.status, headers: answer.headers, body };
  } catch (e) {
    broken = true; // the transaction state is unknown: never reuse this connection
    throw e;
  } finally {
    client.release(broken);
  }
}

/** One statement: parameters in text (PostgreSQL infers their types), rows as arrays. */
function run(client, statement, requestBody) {
  const values = statement.params.map((p) => {
    switch (p.tag) {
      case 'sql-null': return null;
      case 'text': return p.val;
      case 'bytes': return Buffer.from(p.val); // node-postgres sends Buffers as binary
      case 'request-body': return Buffer.from(requestBody).toString('utf8');
    }
  });
  return client.query({ text: statement.sql, values, rowMode: 'array', queryMode: 'extended' });
}

/** Columns `from..` of every row, NULL as undefined (WIT `option<string>`). */
function textRows(rows, from) {
  return rows.map((row) => row.slice(from).map((v) => v ?? undefined));
}

/** Column `i` of the first row as bytes: bytea arrives as hex text. */
function columnBytes(result, i) {
  const value = result.rows[0]?.[i];
  if (value == null) return new Uint8Array();
  return result.fields[i].dataTypeID === 17 ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value, 'utf8');
}

/** The in-database configuration: the rows of the component's statements, run
 * read-only and rolled back; a failure is logged and ignored, as in PostgREST. */
async function readDbSettings(config) {
  const statements = wit(() => api.dbConfigStatements(config), 'in-database configuration');
  if (statements.length === 0) return [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    const settings = [];
    for (const statement of statements) {
      const { rows } = await run(client, statement, new Uint8Array());
      if (statement.rows !== 'ignore') settings.push(...rows.map(([name, value]) => [name, value]));
    }
    await client.query('ROLLBACK');
    client.release();
    return settings;
  } catch (e) {
    client.release(true);
    console.error(`pgrest-node: failed reading the in-database configuration: ${e.message}`);
    return [];
  }
}

/** The component's introspection statements, in one read-only transaction. */
async function introspect() {
  const client = await pool.connect();
  try {
    const { rows } = await client.query({ text: "SELECT current_setting('server_version_num')", rowMode: 'array' });
    const statements = wit(() => api.introspection(config, Number(rows[0][0])), 'introspection');
    await client.query('BEGIN READ ONLY');
    const texts = [];
    for (const statement of statements) texts.push((await run(client, statement, new Uint8Array())).rows[0][0]);
    await client.query('COMMIT');
    client.release();
    return texts;
  } catch (e) {
    client.release(true);
    fail(`reading the schema cache: ${e.message}`);
  }
}

async function reinstantiate() {
  api = await loadTranslator(dir);
  engine = api.Engine.load(config, introspection);
}

function send(res, { status, headers, body }) {
  res.writeHead(status, [...headers.flat(), 'content-length', String(body.length)]);
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

/** The configuration from our environment and `dbSettings`, reading the files
 * the component names (`@file` values) until it has them all. */
function resolve(dbSettings) {
  const files = [];
  for (;;) {
    const resolution = wit(() => api.resolveConfig(undefined, env, dbSettings, files), 'configuration');
    if (resolution.tag === 'resolved') return resolution.val;
    for (const path of resolution.val) {
      if (files.some(([read]) => read === path)) fail(`configuration: the file ${path} is asked for again`);
      try {
        files.push([path, readFileSync(path, 'utf8')]);
      } catch (e) {
        fail(`configuration: reading the file ${path}: ${e.message}`);
      }
    }
  }
}

/** A WIT `result`: the ok value, or exit with the component's message. */
function wit(call, what) {
  try {
    return call();
  } catch (e) {
    fail(`${what}: ${errPayload(e)}`);
  }
}

/** db-uri as node-postgres options: a URI, or libpq's `key=value` form. */
function connectionOptions(uri) {
  if (/^postgres(ql)?:\/\//.test(uri)) return { connectionString: uri };
  const names = { host: 'host', port: 'port', user: 'user', password: 'password', dbname: 'database', application_name: 'application_name' };
  const options = { application_name: process.env.PGAPPNAME ?? 'pgrest-node' };
  const pair = /\s*(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s']*))\s*/y;
  while (pair.lastIndex < uri.length) {
    const m = pair.exec(uri);
    if (!m) fail(`db-uri: cannot parse ${JSON.stringify(uri)}`);
    if (!names[m[1]]) fail(`db-uri: unsupported key ${m[1]}`);
    options[names[m[1]]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return options;
}

function fail(message) {
  console.error(`pgrest-node: ${message}`);
  process.exit(1);
}
