// The client under test, pointed at the server named by the environment:
// PGREST_URL (e.g. http://127.0.0.1:3000) and optionally PGREST_SCHEMA, which
// postgrest-js sends as Accept-Profile.
import assert from 'node:assert/strict'
import { PostgrestClient } from '@supabase/postgrest-js'

const url = process.env.PGREST_URL
if (!url) {
  throw new Error('PGREST_URL must name the server under test, e.g. http://127.0.0.1:3000')
}

// Retries are off so that a failing answer shows up as it is, not after 7 s of
// back-off (postgrest-js retries GET on 503/520 and network errors); a request
// that hangs fails after the timeout instead of stalling the suite.
export const db = new PostgrestClient(url, {
  schema: process.env.PGREST_SCHEMA || undefined,
  retry: false,
  timeout: 15_000,
})

// The parts of a client result the tests compare (statusText is whatever
// reason phrase the HTTP stack picks, so it is left out).
function outcome({ data, error, count, status }) {
  return { data, error, count, status }
}

// Asserts a success: exactly this data, and the count and status given.
export function succeeds(res, data, { count = null, status = 200 } = {}) {
  assert.deepEqual(outcome(res), { data, error: null, count, status })
}

// Asserts a failure: this status and error body, no data and no count.
export function fails(res, status, error) {
  assert.deepEqual(outcome(res), { data: null, error, count: null, status })
}

// Awaits a query that must succeed with 200 and returns its rows.
export async function rows(query) {
  const res = await query
  assert.equal(res.error, null, `unexpected error: ${JSON.stringify(res.error)}`)
  assert.equal(res.status, 200)
  return res.data
}

// The `id`s a filtered query on a table returns, in id order.
export async function ids(table, filter) {
  const data = await rows(filter(db.from(table).select('id').order('id')))
  return data.map((row) => row.id)
}
