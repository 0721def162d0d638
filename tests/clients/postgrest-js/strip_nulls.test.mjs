// stripNulls(): Accept: application/vnd.pgrst.array+json;nulls=stripped, or the
// object variant together with single().
import { test } from 'node:test'
import { db, succeeds } from './lib/client.mjs'

test('stripNulls() drops null fields from every row', async () => {
  const res = await db.from('js_authors').select('id,country').gt('id', 2).order('id').stripNulls()
  succeeds(res, [{ id: 3, country: 'US' }, { id: 4 }])
})

test('stripNulls() drops null casts and JSON paths too', async () => {
  const res = await db
    .from('js_books')
    .select('id,price::text,meta->translated,missing:meta->nope')
    .eq('id', 4)
    .stripNulls()
  succeeds(res, [{ id: 4 }])
})

test('stripNulls() with single() strips the object', async () => {
  const res = await db.from('js_books').select('id,year,price').eq('id', 5).single().stripNulls()
  succeeds(res, { id: 5, price: 0.5 })
})
