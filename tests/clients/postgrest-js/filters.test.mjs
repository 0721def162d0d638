// Horizontal filtering through every filter method of postgrest-js.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ids } from './lib/client.mjs'

const books = (filter) => ids('js_books', filter)
const authors = (filter) => ids('js_authors', filter)

test('eq and neq', async () => {
  assert.deepEqual(await books((q) => q.eq('author_id', 1)), [1, 2])
  assert.deepEqual(await books((q) => q.neq('author_id', 1)), [3, 4, 5, 6])
  assert.deepEqual(await books((q) => q.eq('title', 'Solaris')), [3])
  assert.deepEqual(await books((q) => q.eq('title', 'solaris')), [])
})

test('eq with reserved characters in the value', async () => {
  assert.deepEqual(await books((q) => q.eq('title', 'Commas, (parens). And "quotes"')), [5])
  assert.deepEqual(await authors((q) => q.eq('name', 'Lem, Stanisław')), [2])
})

test('gt, gte, lt, lte', async () => {
  assert.deepEqual(await books((q) => q.gt('year', 1970)), [1, 4, 6])
  assert.deepEqual(await books((q) => q.gte('year', 1979)), [4, 6])
  assert.deepEqual(await books((q) => q.lt('price', 9)), [2, 5])
  assert.deepEqual(await books((q) => q.lte('price', 9.99)), [1, 2, 5])
  assert.deepEqual(await books((q) => q.gt('year', 1961).lt('year', 1975)), [1, 2])
})

test('like and ilike, with % or * as the wildcard', async () => {
  assert.deepEqual(await books((q) => q.like('title', '%of%')), [2, 6])
  assert.deepEqual(await books((q) => q.like('title', 'The*')), [1, 2])
  assert.deepEqual(await books((q) => q.like('title', '%OF%')), [])
  assert.deepEqual(await books((q) => q.ilike('title', '%SOLARIS%')), [3])
  assert.deepEqual(await books((q) => q.ilike('title', '*(PARENS).*')), [5])
})

test('likeAnyOf, likeAllOf, ilikeAnyOf, ilikeAllOf', async () => {
  assert.deepEqual(await books((q) => q.likeAnyOf('title', ['The%', '%Sower'])), [1, 2, 6])
  assert.deepEqual(await books((q) => q.likeAllOf('title', ['The%', '%ness'])), [2])
  assert.deepEqual(await books((q) => q.ilikeAnyOf('title', ['%KIND%', 'solaris'])), [3, 4])
  assert.deepEqual(await books((q) => q.ilikeAllOf('title', ['%the%', '%dark%'])), [2])
})

test('regexMatch and regexIMatch', async () => {
  assert.deepEqual(await books((q) => q.regexMatch('title', '^The ')), [1, 2])
  assert.deepEqual(await books((q) => q.regexMatch('title', '^k')), [])
  assert.deepEqual(await books((q) => q.regexIMatch('title', '^k')), [4])
})

test('in and notIn, quoting values with commas and parentheses', async () => {
  assert.deepEqual(await books((q) => q.in('id', [5, 1, 3])), [1, 3, 5])
  assert.deepEqual(await books((q) => q.in('id', [])), [])
  assert.deepEqual(await books((q) => q.notIn('id', [1, 2, 3])), [4, 5, 6])
  assert.deepEqual(await authors((q) => q.in('name', ['Lem, Stanisław', 'Anonymous'])), [2, 4])
  assert.deepEqual(await books((q) => q.in('title', ['Solaris', 'Kindred', 'Nope'])), [3, 4])
})

test('is null, is true/false, not is null', async () => {
  assert.deepEqual(await books((q) => q.is('price', null)), [4])
  assert.deepEqual(await books((q) => q.not('price', 'is', null)), [1, 2, 3, 5, 6])
  assert.deepEqual(await books((q) => q.is('available', true)), [1, 2, 6])
  assert.deepEqual(await books((q) => q.is('available', false)), [3, 5])
  assert.deepEqual(await books((q) => q.filter('available', 'is', 'unknown')), [4])
  assert.deepEqual(await books((q) => q.not('available', 'is', true)), [3, 4, 5])
})

test('isDistinct treats null as a value', async () => {
  assert.deepEqual(await books((q) => q.isDistinct('available', true)), [3, 4, 5])
  assert.deepEqual(await books((q) => q.neq('available', true)), [3, 5])
})

test('contains, containedBy and overlaps on arrays', async () => {
  assert.deepEqual(await books((q) => q.contains('genres', ['sf', 'utopia'])), [1])
  assert.deepEqual(await books((q) => q.contains('genres', [])), [1, 2, 3, 4, 5, 6])
  assert.deepEqual(
    await books((q) => q.containedBy('genres', ['sf', 'historical', 'utopia'])),
    [1, 2, 4, 5],
  )
  assert.deepEqual(await books((q) => q.overlaps('genres', ['dystopia', 'philosophy'])), [3, 6])
})

test('contains and containedBy on jsonb', async () => {
  assert.deepEqual(await books((q) => q.contains('meta', { translated: true })), [3])
  assert.deepEqual(await books((q) => q.contains('meta', { awards: ['Nebula'] })), [1])
  assert.deepEqual(
    await books((q) => q.containedBy('meta', { pages: 304, translated: false })),
    [2],
  )
})

test('range operators', async () => {
  const probe = '[1980-01-01,1985-01-01)'
  assert.deepEqual(await books((q) => q.rangeGt('in_print', probe)), [6])
  assert.deepEqual(await books((q) => q.rangeLt('in_print', probe)), [3])
  assert.deepEqual(await books((q) => q.rangeGte('in_print', '[1970-01-01,1971-01-01)')), [1, 6])
  assert.deepEqual(await books((q) => q.rangeLte('in_print', '[1970-01-01,1990-01-01)')), [1, 3])
  assert.deepEqual(
    await books((q) => q.rangeAdjacent('in_print', '[1990-01-01,1993-10-01)')),
    [1, 6],
  )
  assert.deepEqual(await books((q) => q.overlaps('in_print', '[1970-01-01,1971-01-01)')), [2, 3])
  assert.deepEqual(await books((q) => q.contains('in_print', '[2000-06-15,2000-06-16)')), [2, 6])
})

test('textSearch: to_tsquery, plain, phrase and websearch, with a config', async () => {
  const fts = (query, options) => books((q) => q.textSearch('blurb_tsv', query, options))
  assert.deepEqual(await fts('planet', { config: 'english' }), [1, 2])
  assert.deepEqual(await fts('planet & !frozen', { config: 'english' }), [1])
  assert.deepEqual(await fts('planets'), [1, 2])
  assert.deepEqual(await fts('frozen planet', { type: 'plain', config: 'english' }), [2])
  assert.deepEqual(await fts('twin planets', { type: 'phrase', config: 'english' }), [1])
  assert.deepEqual(await fts('planets twin', { type: 'phrase', config: 'english' }), [])
  assert.deepEqual(await fts('planet -frozen', { type: 'websearch', config: 'english' }), [1])
  assert.deepEqual(await fts('"collapsing california" or ocean', { type: 'websearch' }), [3, 6])
})

test('textSearch on a text column', async () => {
  const fts = (query, options) => books((q) => q.textSearch('blurb', query, options))
  assert.deepEqual(await fts('planets', { config: 'english' }), [1, 2])
  assert.deepEqual(await fts('pulled & time', { config: 'english' }), [4])
  assert.deepEqual(await fts('sentient ocean', { type: 'plain' }), [3])
})

test('(any) and (all) modifiers through filter()', async () => {
  assert.deepEqual(await books((q) => q.filter('id', 'eq(any)', '{1,3,99}')), [1, 3])
  assert.deepEqual(await books((q) => q.filter('year', 'gt(all)', '{1960,1970}')), [1, 4, 6])
  assert.deepEqual(await books((q) => q.filter('year', 'lt(any)', '{1962,1970}')), [2, 3])
  assert.deepEqual(await books((q) => q.not('id', 'eq(any)', '{1,2,3,4}')), [5, 6])
})

test('match combines eq filters', async () => {
  assert.deepEqual(await books((q) => q.match({ author_id: 3, year: 1993 })), [6])
  assert.deepEqual(await books((q) => q.match({ author_id: 3, year: 1961 })), [])
})

test('not negates any operator', async () => {
  assert.deepEqual(await books((q) => q.not('title', 'like', 'The%')), [3, 4, 5, 6])
  assert.deepEqual(await books((q) => q.not('id', 'in', '(1,2,3)')), [4, 5, 6])
  assert.deepEqual(await books((q) => q.not('genres', 'cs', '{sf}')), [5])
})

test('filter passes a raw operator and value', async () => {
  assert.deepEqual(await books((q) => q.filter('year', 'in', '(1961,1969)')), [2, 3])
  const title = 'Commas, (parens). And "quotes"'
  assert.deepEqual(await books((q) => q.filter('title', 'eq', title)), [5])
  // Double quotes delimit values only inside in.(…) lists and logic trees.
  assert.deepEqual(await books((q) => q.filter('title', 'eq', '"Solaris"')), [])
  assert.deepEqual(await books((q) => q.filter('title', 'in', '("Solaris","Kindred")')), [3, 4])
})

test('filters on JSON paths', async () => {
  assert.deepEqual(await books((q) => q.eq('meta->>translated', 'true')), [3])
  assert.deepEqual(await books((q) => q.gt('meta->pages', 300)), [1, 2, 6])
  assert.deepEqual(await books((q) => q.eq('meta->awards->>1', 'Nebula')), [1])
})
