// Writes through the client: insert (one row, bulk with the quoted `columns`
// it sends, defaultToNull: false), upsert with onConflict and
// ignoreDuplicates, update, delete, and rollback(). The table is
// `test.w_js` from `tests/fixtures/40_writes.sql`. pgrest's shared test
// server ends every transaction with ROLLBACK unless asked otherwise, so each
// test sees its own writes only in the returned rows; against a server that
// commits, run this file on a fresh database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { db, succeeds } from './lib/client.mjs'

test('insert one row returns it with 201', async () => {
  const res = await db.from('w_js').insert({ id: 1, name: 'one' }).select()
  succeeds(res, [{ id: 1, name: 'one', 'Quoted Col': null, qty: null }], { status: 201 })
})

test('bulk insert sends quoted columns; missing keys are null', async () => {
  const res = await db
    .from('w_js')
    .insert([
      { id: 2, name: 'two', 'Quoted Col': 'q' },
      { id: 3, qty: 3 },
    ])
    .select('id,name,"Quoted Col",qty')
  succeeds(
    res,
    [
      { id: 2, name: 'two', 'Quoted Col': 'q', qty: null },
      { id: 3, name: null, 'Quoted Col': null, qty: 3 },
    ],
    { status: 201 },
  )
})

test('insert with count and without a representation', async () => {
  const res = await db.from('w_js').insert([{ id: 4 }, { id: 5 }], { count: 'exact' })
  succeeds(res, null, { count: 2, status: 201 })
})

test('a failing insert reports the constraint', async () => {
  const res = await db.from('w_js').insert([{ id: 6 }, { id: 6 }])
  assert.equal(res.status, 409)
  assert.equal(res.error.code, '23505')
})

test('upsert with onConflict merges, ignoreDuplicates keeps', async () => {
  const merged = await db
    .from('w_js')
    .upsert([{ id: 100, name: 'merged' }], { onConflict: 'id' })
    .select('id,name,qty')
  succeeds(merged, [{ id: 100, name: 'merged', qty: 1 }])
  const inserted = await db.from('w_js').upsert({ id: 12, name: 'new' }).select('id,name')
  succeeds(inserted, [{ id: 12, name: 'new' }], { status: 201 })
  const ignored = await db
    .from('w_js')
    .upsert({ id: 101, name: 'x' }, { onConflict: 'id', ignoreDuplicates: true })
    .select('id,name')
  succeeds(ignored, [], { status: 201 })
})

test('update and delete with filters', async () => {
  const updated = await db.from('w_js').update({ qty: 10 }).gte('id', 100).select('id,qty').order('id')
  succeeds(updated, [
    { id: 100, qty: 10 },
    { id: 101, qty: 10 },
  ])
  const deleted = await db.from('w_js').delete({ count: 'exact' }).eq('id', 101)
  succeeds(deleted, null, { count: 1, status: 204 })
  const none = await db.from('w_js').update({ name: 'none' }).eq('id', 99).select()
  succeeds(none, [])
})

test('rollback() leaves nothing behind', async () => {
  const res = await db.from('w_js').insert({ id: 20, name: 'gone' }).select('id').rollback()
  succeeds(res, [{ id: 20 }], { status: 201 })
  const after = await db.from('w_js').select('id').eq('id', 20)
  succeeds(after, [])
})
