// explain(): the query's EXPLAIN (Accept: application/vnd.pgrst.plan+text or
// +json, for= the media type the query asked for, options=analyze|...), on a
// server with db-plan-enabled, named by PGREST_PLAN_URL; without it the
// tests are skipped. The server of PGREST_URL keeps plans disabled: 406.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PostgrestClient } from '@supabase/postgrest-js'
import { db, fails } from './lib/client.mjs'

const planUrl = process.env.PGREST_PLAN_URL
const skip = planUrl ? false : 'PGREST_PLAN_URL (a server with db-plan-enabled) is not set'
const plans = planUrl
  ? new PostgrestClient(planUrl, {
      schema: process.env.PGREST_SCHEMA || undefined,
      retry: false,
      timeout: 15_000,
    })
  : null

test('explain() answers the text plan of a read', { skip }, async () => {
  const res = await plans.from('js_authors').select('id,name').eq('id', 1).explain()
  assert.equal(res.status, 200)
  assert.equal(res.error, null)
  assert.equal(typeof res.data, 'string')
  assert.match(res.data, /^Aggregate {2}\(cost=/)
  assert.match(res.data, / on js_authors /)
})

test('explain({ format: "json", analyze: true }) runs it and answers JSON', { skip }, async () => {
  const res = await plans
    .from('js_books')
    .select('title,js_authors(name)')
    .order('id')
    .explain({ format: 'json', analyze: true, verbose: true })
  assert.equal(res.status, 200)
  assert.equal(res.error, null)
  assert.equal(res.data[0].Plan['Node Type'], 'Aggregate')
  assert.equal(res.data[0].Plan['Actual Rows'], 1)
  assert.equal(typeof res.data[0]['Execution Time'], 'number')
  assert.ok(Array.isArray(res.data[0].Plan.Output))
})

test('csv().explain() explains the CSV query', { skip }, async () => {
  const res = await plans.from('js_authors').select('name').csv().explain({ format: 'json' })
  assert.equal(res.status, 200)
  assert.equal(res.error, null)
  assert.equal(res.data[0].Plan['Node Type'], 'Aggregate')
})

test('rpc().explain() explains the call', { skip }, async () => {
  const res = await plans.rpc('r_items_min', { min: 10 }).explain({ format: 'json' })
  assert.equal(res.status, 200)
  assert.equal(res.error, null)
  assert.equal(res.data[0].Plan['Node Type'], 'Aggregate')
})

test('explain() without db-plan-enabled is PGRST107', async () => {
  const res = await db.from('js_authors').select('id').explain({ format: 'json' })
  fails(res, 406, {
    code: 'PGRST107',
    message:
      'None of these media types are available: application/vnd.pgrst.plan+json; for="application/json"',
    details: null,
    hint: null,
  })
})
