-- The demo database pgrest-host starts when no database is configured.
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
GRANT web_anon TO authenticator;

CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_anon;

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
GRANT SELECT ON api.todos TO web_anon;
