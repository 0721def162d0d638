-- The demo database pgrest-host starts when no database is configured: a
-- few related tables in schema "api", readable by the anonymous role.
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
GRANT web_anon TO authenticator;

CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon;

CREATE TABLE api.authors (
  id int PRIMARY KEY,
  name text NOT NULL,
  born int
);
COMMENT ON TABLE api.authors IS 'People who wrote books';
INSERT INTO api.authors VALUES
  (1, 'Ursula K. Le Guin', 1929),
  (2, 'Italo Calvino', 1923),
  (3, 'Octavia E. Butler', 1947);

CREATE TABLE api.books (
  id int PRIMARY KEY,
  author_id int NOT NULL REFERENCES api.authors,
  title text NOT NULL,
  year int,
  tags text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE api.books IS 'Books, each by one author';
INSERT INTO api.books VALUES
  (1, 1, 'A Wizard of Earthsea', 1968, '{fantasy}'),
  (2, 1, 'The Dispossessed', 1974, '{science-fiction,utopia}'),
  (3, 2, 'Invisible Cities', 1972, '{fiction}'),
  (4, 2, 'If on a winter''s night a traveler', 1979, '{fiction}'),
  (5, 3, 'Kindred', 1979, '{science-fiction}'),
  (6, 3, 'Parable of the Sower', 1993, '{science-fiction,dystopia}');

CREATE TABLE api.todos (
  id serial PRIMARY KEY,
  done boolean NOT NULL DEFAULT false,
  task text NOT NULL,
  due timestamptz
);
COMMENT ON TABLE api.todos IS 'Things to do';
INSERT INTO api.todos (task, done) VALUES
  ('finish tutorial 0', false),
  ('pat self on back', false),
  ('read the PostgREST docs', true);

GRANT SELECT ON api.authors, api.books, api.todos TO web_anon;
GRANT INSERT, UPDATE, DELETE ON api.todos TO web_anon;
GRANT USAGE ON SEQUENCE api.todos_id_seq TO web_anon;
