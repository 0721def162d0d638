// Resource embedding through the client: to-one and to-many embeds, aliases,
// `!inner` with a filter on the embedded resource, and spreads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { db, rows } from './lib/client.mjs'

test('a to-one embed is an object, null without a match', async () => {
  const data = await rows(
    db.from('js_books').select('id,js_authors(name)').in('id', [1, 5]).order('id'),
  )
  assert.deepEqual(data, [
    { id: 1, js_authors: { name: 'Le Guin, Ursula K.' } },
    { id: 5, js_authors: { name: 'Anonymous' } },
  ])
})

test('a to-many embed is an array, with its own order, and [] when empty', async () => {
  const data = await rows(
    db
      .from('js_authors')
      .select('name,books:js_books(title)')
      .in('id', [1, 2])
      .order('id')
      .order('id', { referencedTable: 'books', ascending: false }),
  )
  assert.deepEqual(data, [
    {
      name: 'Le Guin, Ursula K.',
      books: [{ title: 'The Left Hand of Darkness' }, { title: 'The Dispossessed' }],
    },
    { name: 'Lem, Stanisław', books: [{ title: 'Solaris' }] },
  ])
})

test('!inner keeps only the rows whose embed matches the embedded filter', async () => {
  const data = await rows(
    db
      .from('js_books')
      .select('title,js_authors!inner(country)')
      .eq('js_authors.country', 'PL'),
  )
  assert.deepEqual(data, [{ title: 'Solaris', js_authors: { country: 'PL' } }])
})

test('a filter on a left-joined embed filters the embed, not the parent', async () => {
  const data = await rows(
    db
      .from('js_authors')
      .select('id,js_books(id)')
      .lte('js_books.year', 1970)
      .in('id', [1, 3])
      .order('id'),
  )
  assert.deepEqual(data, [
    { id: 1, js_books: [{ id: 2 }] },
    { id: 3, js_books: [] },
  ])
})

test('a to-one spread puts the embedded columns beside the parent ones', async () => {
  const data = await rows(
    db.from('js_books').select('title,...js_authors(author:name)').eq('id', 3),
  )
  assert.deepEqual(data, [{ title: 'Solaris', author: 'Lem, Stanisław' }])
})
