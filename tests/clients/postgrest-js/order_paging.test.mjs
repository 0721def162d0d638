// order(), limit() and range() (postgrest-js sends offset/limit query parameters).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { db, rows, succeeds } from './lib/client.mjs'

const idsOf = async (query) => (await rows(query)).map((row) => row.id)
const books = () => db.from('js_books').select('id')

test('order ascending and descending; nulls sort as PostgreSQL sorts them by default', async () => {
  assert.deepEqual(await idsOf(books().order('year')), [3, 2, 1, 4, 6, 5])
  assert.deepEqual(await idsOf(books().order('year', { ascending: false })), [5, 6, 4, 1, 2, 3])
})

test('order with nullsFirst', async () => {
  assert.deepEqual(
    await idsOf(books().order('year', { ascending: false, nullsFirst: false })),
    [6, 4, 1, 2, 3, 5],
  )
  assert.deepEqual(await idsOf(books().order('price', { nullsFirst: true })), [4, 5, 2, 1, 6, 3])
})

test('several order() calls sort by each column in turn', async () => {
  assert.deepEqual(
    await idsOf(books().order('author_id').order('year', { ascending: false })),
    [1, 2, 3, 6, 4, 5],
  )
})

test('order by a JSON path', async () => {
  assert.deepEqual(await idsOf(books().order('meta->pages')), [3, 4, 2, 6, 1, 5])
  assert.deepEqual(
    await idsOf(books().order('meta->>pages', { ascending: false, nullsFirst: false })),
    [1, 6, 2, 4, 3, 5],
  )
})

test('limit', async () => {
  assert.deepEqual(await idsOf(books().order('id').limit(2)), [1, 2])
  assert.deepEqual(await idsOf(books().order('id', { ascending: false }).limit(1)), [6])
  assert.deepEqual(await idsOf(books().order('id').limit(0)), [])
})

test('range is inclusive on both ends', async () => {
  assert.deepEqual(await idsOf(books().order('id').range(1, 3)), [2, 3, 4])
  assert.deepEqual(await idsOf(books().order('id').range(4, 10)), [5, 6])
  assert.deepEqual(await idsOf(books().order('id').range(0, 0)), [1])
})

test('range past the end without a count is an empty 200', async () => {
  const res = await books().order('id').range(10, 12)
  succeeds(res, [])
})

test('range combines with filters and order', async () => {
  assert.deepEqual(
    await idsOf(books().gt('year', 1960).order('year', { ascending: false }).range(1, 2)),
    [4, 1],
  )
})
