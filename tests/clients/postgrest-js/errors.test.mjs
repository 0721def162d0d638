// Errors reach the client as PostgREST's {code, message, details, hint} with
// the HTTP status, and data null.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { db, fails } from './lib/client.mjs'

test('an unknown column is 42703 (400)', async () => {
  const res = await db.from('js_books').select('id,nope')
  fails(res, 400, {
    code: '42703',
    message: 'column js_books.nope does not exist',
    details: null,
    hint: null,
  })
})

test('an unknown operator is PGRST100 (400)', async () => {
  const res = await db.from('js_books').select('id').filter('id', 'nope', '1')
  assert.equal(res.status, 400)
  assert.equal(res.data, null)
  assert.equal(res.error.code, 'PGRST100')
  // The parser's position differs between PostgREST versions (12.0.2 says
  // column 1); the rest of the message is fixed.
  assert.match(res.error.message, /^"failed to parse filter \(nope\.1\)" \(line 1, column \d+\)$/)
})

test('a value of the wrong type is 22P02 (400)', async () => {
  const res = await db.from('js_books').select('id').eq('id', 'one')
  fails(res, 400, {
    code: '22P02',
    message: 'invalid input syntax for type integer: "one"',
    details: null,
    hint: null,
  })
})

// PostgREST 13+ (12.0.2 answered 42P01 "relation \"test.nope\" does not exist").
test('an unknown table is PGRST205 (404)', async () => {
  const res = await db.from('nope').select('id')
  fails(res, 404, {
    code: 'PGRST205',
    message: "Could not find the table 'test.nope' in the schema cache",
    details: null,
    hint: null,
  })
})

// PostgREST after 13.0 (12.0.2 said "The schema must be one of the following: test"
// with no hint).
test('a schema outside db-schemas is PGRST106 (406)', async () => {
  const res = await db.schema('nope').from('js_books').select('id')
  fails(res, 406, {
    code: 'PGRST106',
    message: 'Invalid schema: nope',
    details: null,
    hint: 'Only the following schemas are exposed: test',
  })
})
