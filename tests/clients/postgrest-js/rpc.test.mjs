// rpc: functions under /rpc/ (tests/fixtures/60_rpc.sql), by POST with a
// JSON object and by GET with query arguments, with filters, select, order
// and counts on a set-returning function, and PGRST202 for a missing one.
import { test } from 'node:test'
import { db, fails, succeeds } from './lib/client.mjs'

test('rpc POST of a scalar function returns the bare value', async () => {
  const res = await db.rpc('r_add', { a: 1, b: 2 })
  succeeds(res, 3)
})

test('rpc GET passes the arguments in the query string', async () => {
  const res = await db.rpc('r_add', { a: 1 }, { get: true })
  succeeds(res, 101)
})

test('rpc POST with a filter, select and order on a set-returning function', async () => {
  const res = await db
    .rpc('r_items_min', { min: 10 })
    .select('id,name')
    .lt('qty', 40)
    .order('id', { ascending: false })
  succeeds(res, [
    { id: 3, name: 'three' },
    { id: 2, name: 'two' },
    { id: 1, name: 'one' },
  ])
})

test('rpc GET with a filter and an exact count on a set-returning function', async () => {
  const res = await db
    .rpc('r_items_min', { min: 20 }, { get: true, count: 'exact' })
    .select('id')
    .in('id', [2, 4])
    .order('id')
  succeeds(res, [{ id: 2 }, { id: 4 }], { count: 2 })
})

test('rpc single() on a set-returning function', async () => {
  const res = await db.rpc('r_items_min', { min: 0 }).eq('id', 4).single()
  succeeds(res, { id: 4, name: 'four', qty: 40 })
})

test('rpc of a missing function is PGRST202', async () => {
  const res = await db.rpc('r_ad', { a: 1 })
  fails(res, 404, {
    code: 'PGRST202',
    message: 'Could not find the function test.r_ad(a) in the schema cache',
    details:
      'Searched for the function test.r_ad with parameter a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
    hint: 'Perhaps you meant to call the function test.r_add',
  })
})
