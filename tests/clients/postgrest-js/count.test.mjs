// count: 'exact' (Prefer: count=exact; the client reads the total from
// Content-Range), with and without head: true, and the statuses that go with it.
import { test } from 'node:test'
import { db, fails, succeeds } from './lib/client.mjs'

test("count: 'exact', head: true gives the count and no data", async () => {
  const res = await db.from('js_books').select('*', { count: 'exact', head: true })
  succeeds(res, null, { count: 6 })
})

test("count: 'exact', head: true counts what the filters keep", async () => {
  const res = await db
    .from('js_books')
    .select('id', { count: 'exact', head: true })
    .or('author_id.eq.1,price.is.null')
  succeeds(res, null, { count: 3 })
})

test("count: 'exact', head: true on no rows is 0", async () => {
  const res = await db.from('js_books').select('id', { count: 'exact', head: true }).eq('id', 99)
  succeeds(res, null, { count: 0 })
})

test("count: 'exact' with every row is 200", async () => {
  const res = await db
    .from('js_books')
    .select('id', { count: 'exact' })
    .eq('author_id', 3)
    .order('id')
  succeeds(res, [{ id: 4 }, { id: 6 }], { count: 2 })
})

test("count: 'exact' with part of the rows is 206 with the full count", async () => {
  const res = await db.from('js_books').select('id', { count: 'exact' }).order('id').range(1, 2)
  succeeds(res, [{ id: 2 }, { id: 3 }], { count: 6, status: 206 })
})

test("count: 'exact', head: true with limit is 206", async () => {
  const res = await db.from('js_books').select('id', { count: 'exact', head: true }).limit(1)
  succeeds(res, null, { count: 6, status: 206 })
})

test("count: 'exact' on no rows is an empty 200", async () => {
  const res = await db.from('js_books').select('id', { count: 'exact' }).gt('id', 99)
  succeeds(res, [], { count: 0 })
})

test("count: 'exact' with a range past the end is PGRST103 (416)", async () => {
  const res = await db.from('js_books').select('id', { count: 'exact' }).order('id').range(10, 12)
  fails(res, 416, {
    code: 'PGRST103',
    message: 'Requested range not satisfiable',
    details: 'An offset of 10 was requested, but there are only 6 rows.',
    hint: null,
  })
})
