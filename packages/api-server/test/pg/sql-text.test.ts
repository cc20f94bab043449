import { describe, expect, it } from 'vitest'
import { splitStatements, leadingWords } from '../../src/pg/sql-lexer.ts'
import { rewriteForSqlite } from '../../src/pg/sql-rewrite.ts'
import { classifyStatement, writeTag, writeVerb } from '../../src/pg/statement-kind.ts'
import { isCatalogQuery, rewriteCatalogSql } from '../../src/pg/catalog-rewrite.ts'
import { parseSet, parseShow } from '../../src/pg/session-settings.ts'

describe('statement splitting', () => {
  it('splits on semicolons outside quotes and comments', () => {
    expect(splitStatements(`SELECT 'a;b'; SELECT "x;y" FROM t -- c;d
; /* e;f */ SELECT 3;;`)).toEqual([`SELECT 'a;b'`, 'SELECT "x;y" FROM t -- c;d', '/* e;f */ SELECT 3'])
  })

  it('keeps trigger bodies whole', () => {
    const sql = 'CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (CASE WHEN 1 THEN 2 END); DELETE FROM c; END; SELECT 1'
    expect(splitStatements(sql)).toEqual(['CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (CASE WHEN 1 THEN 2 END); DELETE FROM c; END', 'SELECT 1'])
  })

  it('drops empty statements', () => {
    expect(splitStatements(' ; -- only a comment\n ;')).toEqual([])
  })

  it('reads leading keywords past comments', () => {
    expect(leadingWords('/* x */ -- y\n  begin transaction', 2)).toEqual(['BEGIN', 'TRANSACTION'])
  })
})

describe('rewriting for SQLite', () => {
  it('turns $n into ordered anonymous parameters', () => {
    const r = rewriteForSqlite(`SELECT $2, '$1', $1, $2`)
    expect(r.sql).toBe(`SELECT ?, '$1', ?, ?`)
    expect(r.paramCount).toBe(2)
    expect(r.paramOrder).toEqual([1, 0, 1])
  })

  it('accepts SQLite placeholders too', () => {
    expect(rewriteForSqlite('SELECT ?, ?3, ?').paramOrder).toEqual([0, 2, 3])
    expect(rewriteForSqlite('SELECT ?, ?3, ?').paramCount).toBe(4)
  })

  it('drops casts but not literal text', () => {
    expect(rewriteForSqlite(`SELECT $1::int8, 'a::text', x::varchar(20), y::double precision, z::text[], w::"char"`).sql)
      .toBe(`SELECT ?, 'a::text', x, y, z, w`)
  })

  it('translates ILIKE, IS DISTINCT FROM and drops row locks', () => {
    expect(rewriteForSqlite("SELECT * FROM t WHERE a ILIKE 'x%' AND b IS DISTINCT FROM c AND d IS NOT DISTINCT FROM e FOR UPDATE SKIP LOCKED").sql)
      .toBe("SELECT * FROM t WHERE a LIKE 'x%' AND b IS NOT c AND d IS e ")
  })

  it('maps now() to CURRENT_TIMESTAMP', () => {
    expect(rewriteForSqlite("SELECT now(), 'now()'").sql).toBe("SELECT CURRENT_TIMESTAMP, 'now()'")
  })

  it('turns E-strings into plain literals', () => {
    expect(rewriteForSqlite(`SELECT E'a\\nb\\'c'`).sql).toBe(`SELECT 'a\nb''c'`)
  })
})

describe('statement classification', () => {
  it.each([
    ['BEGIN', 'begin'], ['start transaction', 'begin'], ['COMMIT', 'commit'], ['end', 'commit'],
    ['ROLLBACK', 'rollback'], ['rollback to savepoint a', 'unsupported'], ['SET x = 1', 'set'], ['SHOW x', 'show'],
    ['COPY t FROM STDIN', 'copy'], ['SAVEPOINT a', 'unsupported'], ['SELECT 1', 'sql'], ['INSERT INTO t VALUES (1)', 'sql']
  ])('%s → %s', (sql, kind) => {
    expect(classifyStatement(sql).kind).toBe(kind)
  })

  it('builds command tags', () => {
    expect(writeTag(writeVerb('INSERT INTO t VALUES (1)'), 3)).toBe('INSERT 0 3')
    expect(writeTag(writeVerb('replace into t values (1)'), 1)).toBe('INSERT 0 1')
    expect(writeTag(writeVerb('UPDATE t SET a = 1'), 2)).toBe('UPDATE 2')
    expect(writeTag(writeVerb('WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)'), 4)).toBe('DELETE 4')
    expect(writeTag(writeVerb('CREATE UNIQUE INDEX i ON t (a)'), 0)).toBe('CREATE INDEX')
  })
})

describe('SET and SHOW', () => {
  it('parses the forms clients send', () => {
    expect(parseSet('SET search_path TO public, "x"')).toEqual({ name: 'search_path', value: 'public, x' })
    expect(parseSet("SET SESSION application_name = 'psql'")).toEqual({ name: 'application_name', value: 'psql' })
    expect(parseSet("SET TIME ZONE 'UTC'")).toEqual({ name: 'timezone', value: 'UTC' })
    expect(parseShow('SHOW TimeZone')).toBe('timezone')
    expect(parseShow('show time zone')).toBe('timezone')
    expect(() => parseShow('SHOW a b c')).toThrow()
  })
})

describe('catalog rewriting', () => {
  it('detects catalog and session queries', () => {
    expect(isCatalogQuery('SELECT * FROM pg_catalog.pg_class')).toBe(true)
    expect(isCatalogQuery('select version()')).toBe(true)
    expect(isCatalogQuery('SELECT * FROM information_schema.tables')).toBe(true)
    expect(isCatalogQuery("SELECT 'pg_class' FROM todos")).toBe(false)
    expect(isCatalogQuery('SELECT * FROM todos')).toBe(false)
  })

  it('rewrites psql operators, collations, regclass casts and ANY', () => {
    const sql = rewriteCatalogSql(`SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default AND n.nspname !~ '^pg_toast' AND 'd' = any(stxkind) AND pg_catalog.pg_table_is_visible(c.oid) AND x = 'todos'::regclass`)
    expect(sql).toContain('pg_regclass_name(c.oid)')
    expect(sql).toMatch(/c\.relname\s+REGEXP\s+'\^\(t\)\$'/)
    expect(sql).toMatch(/nspname\s+NOT REGEXP\s+'\^pg_toast'/)
    expect(sql).toContain(`pg_array_contains(stxkind, 'd')`)
    expect(sql).toContain('pg_table_is_visible(c.oid)')
    expect(sql).toContain(`pg_regclass_oid('todos')`)
    expect(sql).not.toMatch(/COLLATE/)
  })
})
