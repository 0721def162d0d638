// Logical trees: or(), nested and()/or()/not, and their combination with other filters.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ids } from './lib/client.mjs'

const books = (filter) => ids('js_books', filter)

test('or of two conditions', async () => {
  assert.deepEqual(await books((q) => q.or('year.lt.1965,price.is.null')), [3, 4])
})

test('or is ANDed with the other filters', async () => {
  assert.deepEqual(
    await books((q) => q.eq('author_id', 3).or('year.gt.1990,price.is.null')),
    [4, 6],
  )
})

test('nested and/or/not inside or', async () => {
  assert.deepEqual(
    await books((q) => q.or('and(author_id.eq.1,year.gt.1970),title.ilike.*sower*')),
    [1, 6],
  )
  assert.deepEqual(
    await books((q) => q.or('not.and(year.gte.1965,year.lte.1980),id.eq.1')),
    [1, 3, 6],
  )
  assert.deepEqual(
    await books((q) => q.or('and(genres.cs.{sf},or(price.lt.9,price.gt.12)),id.eq.5')),
    [2, 5],
  )
})

test('several or() calls all apply', async () => {
  assert.deepEqual(await books((q) => q.or('id.eq.1,id.eq.2,id.eq.3').or('year.gt.1965,id.eq.3')), [
    1, 2, 3,
  ])
  assert.deepEqual(await books((q) => q.or('id.eq.1,id.eq.2').or('id.eq.3,id.eq.4')), [])
})

test('or values with reserved characters, arrays and operators with modifiers', async () => {
  assert.deepEqual(
    await books((q) => q.or('title.eq."Commas, (parens). And \\"quotes\\"",id.eq.3')),
    [3, 5],
  )
  assert.deepEqual(await books((q) => q.or('genres.cs.{utopia},genres.cs.{dystopia}')), [1, 6])
  assert.deepEqual(await books((q) => q.or('id.in.(2,4),title.like(any).{Sol*,Kin*}')), [2, 3, 4])
  assert.deepEqual(
    await books((q) => q.or('blurb_tsv.fts(english).ocean,blurb_tsv.plfts(english).frozen')),
    [2, 3],
  )
})
