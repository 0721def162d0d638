// single() (Accept: application/vnd.pgrst.object+json) and maybeSingle()
// (postgrest-js 2.x fetches an array and checks the row count itself).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { db, fails, succeeds } from './lib/client.mjs'

const solaris = { id: 3, title: 'Solaris', year: 1961 }

test('single() returns the one row as an object', async () => {
  const res = await db.from('js_books').select('id,title,year').eq('id', 3).single()
  succeeds(res, solaris)
})

// PostgREST 16's message; 12.0.2 said "JSON object requested, multiple (or no)
// rows returned" with the same code, status and details.
const notOneRow = (rows) => ({
  code: 'PGRST116',
  message: 'Cannot coerce the result to a single JSON object',
  details: `The result contains ${rows} rows`,
  hint: null,
})

test('single() on no rows is PGRST116 (406)', async () => {
  const res = await db.from('js_books').select('id').eq('id', 99).single()
  fails(res, 406, notOneRow(0))
})

test('single() on several rows is PGRST116 (406)', async () => {
  const res = await db.from('js_books').select('id').eq('author_id', 1).single()
  fails(res, 406, notOneRow(2))
})

test('single() counts the rows after limit and range', async () => {
  const res = await db.from('js_books').select('id,title,year').order('year').limit(1).single()
  succeeds(res, solaris)
})

test('maybeSingle() returns the one row as an object', async () => {
  const res = await db.from('js_books').select('id,title,year').eq('title', 'Solaris').maybeSingle()
  succeeds(res, solaris)
})

test('maybeSingle() on no rows is null without an error', async () => {
  const res = await db.from('js_books').select('id').eq('id', 99).maybeSingle()
  succeeds(res, null)
})

test('maybeSingle() on several rows is an error', async () => {
  const res = await db.from('js_books').select('id').eq('author_id', 3).maybeSingle()
  assert.equal(res.status, 406)
  assert.equal(res.data, null)
  assert.equal(res.error.code, 'PGRST116')
  assert.match(res.error.details, /2 rows/)
})
