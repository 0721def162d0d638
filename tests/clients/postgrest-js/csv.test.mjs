// csv() (Accept: text/csv): a header line, then one line per row, each field
// as PostgreSQL prints it inside a row value (quoted when it holds a space, a
// comma, a double quote, a parenthesis or a backslash; NULL as nothing).
import { test } from 'node:test'
import { db, succeeds } from './lib/client.mjs'

test('csv() returns a header and the rows; NULL is an empty field', async () => {
  const res = await db.from('js_authors').select('id,name,country').order('id').csv()
  succeeds(res, [
    'id,name,country',
    '1,"Le Guin, Ursula K.",US',
    '2,"Lem, Stanisław",PL',
    '3,"Butler, Octavia E.",US',
    '4,Anonymous,',
  ].join('\n'))
})

test('csv() quotes commas and double quotes and renders arrays, JSON and aliases', async () => {
  const res = await db
    .from('js_books')
    .select('id,book:title,genres,meta,price')
    .in('id', [1, 5])
    .order('id')
    .csv()
  succeeds(res, [
    'id,book,genres,meta,price',
    '1,"The Dispossessed","{sf,utopia}",' +
      '"{""pages"": 387, ""awards"": [""Hugo"", ""Nebula""]}",9.99',
    '5,"Commas, (parens). And ""quotes""",{},,0.50',
  ].join('\n'))
})

test('csv() with filters, order and range', async () => {
  const res = await db
    .from('js_books')
    .select('title,year')
    .eq('author_id', 1)
    .order('year')
    .range(0, 0)
    .csv()
  succeeds(res, 'title,year\n"The Left Hand of Darkness",1969')
})

test('csv() with count: exact reports the count', async () => {
  const res = await db
    .from('js_authors')
    .select('name', { count: 'exact' })
    .eq('country', 'US')
    .order('id')
    .csv()
  succeeds(res, 'name\n"Le Guin, Ursula K."\n"Butler, Octavia E."', { count: 2 })
})

test('csv() on no rows is an empty header line', async () => {
  const res = await db.from('js_authors').select('id,name').eq('id', 99).csv()
  succeeds(res, '\n')
})
