// Plan parity under jco/Node: runs the cases that tests/it/parity.rs writes
// on stdin through the transpiled component and prints, as JSON, exactly
// what the Rust side computes natively and under wasmtime.
//
//   node parity.mjs <transpiled-dir> < input.json > output.json
import { text } from 'node:stream/consumers';
import { errPayload, loadTranslator } from './translator.mjs';

const api = await loadTranslator(process.argv[2]);
const input = JSON.parse(await text(process.stdin));
const utf8 = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** Bytes as a string when they are UTF-8, else { hex }. */
function bytes(b) {
  try {
    return strict.decode(b);
  } catch {
    return { hex: Buffer.from(b).toString('hex') };
  }
}

function result(call) {
  try {
    return { ok: call() };
  } catch (e) {
    return { err: errPayload(e) };
  }
}

const response = (r) => ({ status: r.status, headers: r.headers, body: bytes(r.body) });

const statements = (list) =>
  list.map((s) => ({
    sql: s.sql,
    params: s.params.map((p) => {
      switch (p.tag) {
        case 'text': return { text: p.val };
        case 'bytes': return { bytes: bytes(p.val) };
        default: return p.tag; // sql-null, request-body
      }
    }),
    rows: s.rows,
  }));

function answer(a) {
  const body = a.body.tag === 'bytes' ? { bytes: bytes(a.body.val) } : a.body.tag;
  return { status: a.status, headers: a.headers, body, commit: a.commit };
}

/** A `config-resolution` that must be `resolved` (the cases name no files). */
const resolve = (env) => {
  const r = api.resolveConfig(undefined, env, [], []);
  if (r.tag !== 'resolved') throw new Error(`files to read: ${r.val}`);
  return r.val;
};
const resolved = (r) => ({ host: r.host, config: bytes(r.config) });

const { config, ...base } = resolve(input.env);
const global = {
  config: resolved({ config, ...base }),
  'bad-config': result(() => resolved(resolve(input['bad-env']))),
  introspection: result(() => statements(api.introspection(config, input['server-version-num']))),
  'db-config-statements': result(() => statements(api.dbConfigStatements(config))),
  // u64 payloads (body-too-large) cross as BigInt.
  'host-errors': input['host-errors']
    .map((e) => (e.tag === 'body-too-large' ? { ...e, val: BigInt(e.val) } : e))
    .map((e) => response(api.renderHostError(config, e))),
  'config-warnings': result(() => api.configWarnings(resolve(input['jwks-env']).config)),
};

// One engine per configuration the cases use.
const engines = new Map();
function engineFor(env) {
  const key = JSON.stringify(env);
  if (!engines.has(key)) {
    engines.set(key, api.Engine.load(resolve(env).config, input.introspection));
  }
  return engines.get(key);
}
const now = BigInt(input.now);
const dbErrors = input['db-errors'].map((e) => ({
  sqlstate: e.sqlstate,
  message: e.message,
  detail: e.detail ?? undefined,
  hint: e.hint ?? undefined,
}));
const resultSets = input['result-sets'].map((rows) => rows.map((row) => row.map((v) => v ?? undefined)));

const cases = input.cases.map((c) => {
  const engine = engineFor(c.env);
  const req = { method: c.method, path: c.path, query: c.query, headers: c.headers, body: utf8.encode(c.body) };
  // As a host does it: CORS first, a preflight ending the request.
  const c0 = engine.cors(c.method, c.headers);
  const cors = c0.tag === 'none' ? 'none' : c0.tag === 'preflight' ? { preflight: response(c0.val) } : { headers: c0.val };
  if (c0.tag === 'preflight') return { cors };
  // Then verify the Authorization header, then plan.
  let token = null;
  let claims;
  const authorization = c.headers.find(([name]) => name === 'authorization');
  if (authorization) {
    const check = engine.verifyToken(authorization[1]);
    if (check.tag === 'invalid') return { cors, token: { invalid: response(check.val) } };
    if (check.tag === 'anonymous') {
      token = 'anonymous';
    } else {
      const v = check.val;
      const time = (t) => (t.tag === 'at' ? { at: Number(t.val) } : t.tag);
      const aud = v.aud.tag === 'values' ? { values: v.aud.val } : v.aud.tag;
      token = {
        valid: {
          'claims-json': v.claimsJson,
          role: v.role ?? null,
          exp: time(v.exp),
          nbf: time(v.nbf),
          iat: time(v.iat),
          aud,
        },
      };
      claims = v;
    }
  }
  const outcome = engine.plan(req, claims, now);
  if (outcome.tag === 'reply') {
    return { cors, token, outcome: { reply: response(outcome.val.response), stage: outcome.val.stage } };
  }
  const plan = outcome.val;
  const used = plan.statements.filter((s) => s.rows !== 'ignore').length;
  return {
    cors,
    token,
    outcome: {
      run: { statements: statements(plan.statements), 'tx-end': plan.txEnd, context: bytes(plan.context) },
    },
    respond: resultSets.map((rows) => answer(engine.respond(plan.context, Array(used).fill(rows)))),
    'respond-error': dbErrors.map((e) => response(engine.respondError(plan.context, e))),
  };
});

// u64 fields arrive as BigInt, which JSON.stringify refuses.
const numbers = (_, v) => (typeof v === 'bigint' ? Number(v) : v);
process.stdout.write(JSON.stringify({ global, cases }, numbers));
