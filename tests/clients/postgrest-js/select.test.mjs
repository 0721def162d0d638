// Vertical filtering: select(columns), `*`, aliases, casts and JSON paths.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { db, rows, succeeds } from './lib/client.mjs'

test('select() with no columns returns every column', async () => {
  const res = await db.from('js_authors').select().order('id')
  succeeds(res, [
    { id: 1, name: 'Le Guin, Ursula K.', country: 'US' },
    { id: 2, name: 'Lem, Stanisław', country: 'PL' },
    { id: 3, name: 'Butler, Octavia E.', country: 'US' },
    { id: 4, name: 'Anonymous', country: null },
  ])
})

test('select lists columns in the order asked', async () => {
  const data = await rows(db.from('js_books').select('title,id').eq('id', 1))
  assert.deepEqual(data, [{ title: 'The Dispossessed', id: 1 }])
  assert.deepEqual(Object.keys(data[0]), ['title', 'id'])
})

test('select keeps values typed: numeric, boolean, arrays, jsonb, ranges, nulls', async () => {
  const data = await rows(
    db
      .from('js_books')
      .select('id,price,available,genres,meta,in_print')
      .in('id', [1, 4])
      .order('id'),
  )
  assert.deepEqual(data, [
    {
      id: 1,
      price: 9.99,
      available: true,
      genres: ['sf', 'utopia'],
      meta: { pages: 387, awards: ['Hugo', 'Nebula'] },
      in_print: '[1974-05-01,1990-01-01)',
    },
    {
      id: 4,
      price: null,
      available: null,
      genres: ['sf', 'historical'],
      meta: { pages: 264 },
      in_print: null,
    },
  ])
})

test('aliases rename columns (whitespace in the select string is dropped)', async () => {
  const data = await rows(db.from('js_books').select('book: title, written:year').eq('id', 2))
  assert.deepEqual(data, [{ book: 'The Left Hand of Darkness', written: 1969 }])
})

test('casts convert in SQL, with or without an alias', async () => {
  const data = await rows(
    db.from('js_books').select('id::text,price::text,cents:price::int').eq('id', 1),
  )
  assert.deepEqual(data, [{ id: '1', price: '9.99', cents: 10 }])
})

test('JSON paths: -> keeps JSON, ->> gives text, array indexes, aliases', async () => {
  const data = await rows(
    db
      .from('js_books')
      .select('id,meta->pages,pages_text:meta->>pages,first_award:meta->awards->>0')
      .eq('id', 1),
  )
  assert.deepEqual(data, [{ id: 1, pages: 387, pages_text: '387', first_award: 'Hugo' }])
})

test('a JSON path missing from a row is null', async () => {
  const data = await rows(
    db.from('js_books').select('id,meta->translated').in('id', [3, 5]).order('id'),
  )
  assert.deepEqual(data, [
    { id: 3, translated: true },
    { id: 5, translated: null },
  ])
})

test('quoted names: a view and columns with spaces and commas', async () => {
  const data = await rows(
    db
      .from('js shelf')
      .select('"Book Id", "title, full", year:"Year Published"')
      .gt('"Year Published"', 1975)
      .order('"Book Id"', { ascending: false }),
  )
  assert.deepEqual(data, [
    { 'Book Id': 6, 'title, full': 'Parable of the Sower', year: 1993 },
    { 'Book Id': 4, 'title, full': 'Kindred', year: 1979 },
  ])
})
