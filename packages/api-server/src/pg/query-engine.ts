import { PgDuplicateObjectError, PgProtocolError, PgReadOnlyError, PgTransactionAbortedError, PgUnknownObjectError, PgUnsupportedError, sqlStateOf } from './errors.ts'
import { parseCopy } from './copy-format.ts'
import { addCopyData, copyInStatements, startCopyIn } from './copy-in.ts'
import { formatOf, prepareStatement } from './prepared.ts'
import { hasComputedColumns, resultFromCursor, resultFromRows, resultFromTypedCursor, typedQuerySql } from './result-set.ts'
import { describeRows, writeCopyOut, writeRows } from './row-writer.ts'
import { parseSet, parseShow, reportedName } from './session-settings.ts'
import { writeTag } from './statement-kind.ts'
import { splitStatements } from './sql-lexer.ts'
import { OID } from './types.ts'
import { bindParam, describedParamType, needsColumnContext, paramColumnTypes } from './param-types.ts'
import * as msg from './wire/backend-messages.ts'
import type { Catalog, CatalogSession } from './catalog.ts'
import type { CopyStatement } from './copy-format.ts'
import type { CopyInState } from './copy-in.ts'
import type { PgLogger } from './pg-logger.ts'
import type { ParamTyping } from './param-types.ts'
import type { Portal, PreparedStatement } from './prepared.ts'
import type { ResultSet } from './result-set.ts'
import type { BindMessage, ParseMessage } from './wire/frontend-messages.ts'
import type { MessageWriter } from './wire/message-writer.ts'
import type { ApiStore, SqlValue, Statement } from '../ports.ts'

/** Where the engine writes: the message writer and a way to push it to the socket mid-result. */
export interface EngineOutput {
  w: MessageWriter
  /** Sends what is written so far, waiting if the socket is congested. */
  flush(): Promise<void>
}

/** Options of {@link queryEngine}. */
export interface QueryEngineInit {
  store: ApiStore
  catalog: Catalog
  session: CatalogSession
  /** Bytes of rows written between two flushes of a large result. */
  flushEveryBytes?: number
  /** Largest `COPY … FROM STDIN` payload accepted (default 64 MiB). */
  maxCopyBytes?: number
  /**
   * Refuse every write (SQLSTATE 25006): statements the store will not run as reads, COPY FROM,
   * and writes inside blocks, each at the statement. Reads, SET/SHOW and empty blocks still work.
   */
  readonly?: boolean
  logger?: PgLogger
}

type Outcome = { kind: 'rows', result: ResultSet } | { kind: 'command', tag: string }

/** The per-connection query state machine: transaction block, prepared statements and portals. */
export interface QueryEngine {
  /** `I` idle, `T` in a block, `E` in a failed block. */
  readonly status: 'I' | 'T' | 'E'
  /** True after an error in the extended protocol until the next Sync. */
  readonly skippingToSync: boolean
  simpleQuery(sql: string, out: EngineOutput, options?: { signal?: AbortSignal }): Promise<void>
  parse(m: ParseMessage, out: EngineOutput): void
  bind(m: BindMessage, out: EngineOutput): void
  describe(kind: 'S' | 'P', name: string, out: EngineOutput): void
  execute(portal: string, maxRows: number, out: EngineOutput, options?: { signal?: AbortSignal }): Promise<void>
  close(kind: 'S' | 'P', name: string, out: EngineOutput): void
  sync(out: EngineOutput): void
  /** True between CopyInResponse and the client's CopyDone / CopyFail. */
  readonly inCopy: boolean
  /** Takes one CopyData message of a `COPY … FROM STDIN`. */
  copyData(data: Buffer): void
  /** Ends a `COPY … FROM STDIN`: writes the rows, then runs the rest of the query string. */
  copyDone(out: EngineOutput, options?: { signal?: AbortSignal }): Promise<void>
  /** Aborts a `COPY … FROM STDIN` on the client's CopyFail. */
  copyFail(message: string, out: EngineOutput): void
  /** Records an extended-protocol error: ErrorResponse, fail the block, skip to Sync. */
  fail(err: unknown, out: EngineOutput): void
  /** Releases every open cursor (connection closing). */
  end(): void
}

function errorFields (err: unknown): msg.ErrorFields {
  const e = err as { message?: unknown }
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err)
  return { severity: 'ERROR', code: sqlStateOf(err), message }
}


/** Creates the engine for one connection. */
export function queryEngine (init: QueryEngineInit): QueryEngine {
  const { catalog, session } = init
  const readonly = init.readonly === true
  // On a read-only listener nothing may reach the store's write path, whatever route it takes.
  const store: ApiStore = readonly
    ? new Proxy(init.store, {
      get (target, key) {
        if (key === 'transaction') return async () => { throw new PgReadOnlyError() }
        const v: unknown = Reflect.get(target, key, target)
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
    : init.store
  const flushEvery = init.flushEveryBytes ?? 64 * 1024
  const maxCopyBytes = init.maxCopyBytes ?? 64 * 1024 * 1024
  // A COPY FROM STDIN waiting for data, and the statements of its query string still to run.
  let copyIn: (CopyInState & { rest: string[] }) | null = null
  let status: 'I' | 'T' | 'E' = 'I'
  let pending: Statement[] = []
  let skipping = false
  const statements = new Map<string, PreparedStatement>()
  const portals = new Map<string, Portal>()
  // Statements the store has already refused as reads: later runs go straight to the write path.
  const knownWrites = new WeakSet<PreparedStatement>()
  // Declared column types parameters meet, per statement (computed on first need).
  const columnTypes = new WeakMap<PreparedStatement, number[]>()
  const paramColumns = (prep: PreparedStatement): number[] => {
    let c = columnTypes.get(prep)
    if (c === undefined) {
      c = paramColumnTypes(prep.sql, store.schema(), prep.paramCount)
      columnTypes.set(prep, c)
    }
    return c
  }

  const closePortal = (name: string): void => {
    const p = portals.get(name)
    if (p === undefined) return
    p.result?.close()
    portals.delete(name)
  }

  const endBlock = (): void => {
    pending = []
    status = 'I'
    // Portals belong to the transaction; its end releases their cursors.
    for (const [name, p] of portals) {
      if (p.result !== undefined) closePortal(name)
    }
  }

  const paramsFor = (prep: PreparedStatement, params: readonly SqlValue[]): Statement => {
    if (prep.paramOrder.length === 0) return { sql: prep.sqlite }
    return { sql: prep.sqlite, params: prep.paramOrder.map((i) => params[i] ?? null) }
  }

  /** Opens a read, or reports that the statement is a write (null). */
  const openRead = (prep: PreparedStatement, params: readonly SqlValue[], peek: 'run' | 'try' | 'never' = 'run'): ResultSet | null => {
    if (prep.catalog) {
      try {
        return catalog.query(prep.sql, params, session)
      } catch (err) {
        // Unanswered tool queries are how catalog gaps show up; log the text to extend the emulation.
        init.logger?.debug?.({ err, sql: prep.sql }, 'pg catalog query failed')
        throw err
      }
    }
    if (knownWrites.has(prep)) return null
    try {
      const stmt = paramsFor(prep, params)
      const cursor = store.query(stmt)
      if (peek !== 'never' && (prep.verb === 'SELECT' || prep.verb === 'VALUES') && hasComputedColumns(cursor.columns)) {
        // Computed columns are typed by the storage class of their values (see typedQuerySql).
        let typed: ReturnType<ApiStore['query']> | null = null
        try {
          typed = store.query({ ...stmt, sql: typedQuerySql(stmt.sql, cursor.columns) })
        } catch (err) {
          init.logger?.debug?.({ err, sql: prep.sql }, 'pg typed read failed; typing computed columns by value')
        }
        if (typed !== null) {
          const columns = cursor.columns
          cursor.close()
          return resultFromTypedCursor(columns, typed, peek)
        }
      }
      return resultFromCursor(cursor, undefined, peek)
    } catch (err) {
      if ((err as Error)?.name === 'StatementNotReadonlyError') {
        knownWrites.add(prep)
        return null
      }
      throw err
    }
  }

  const show = (prep: PreparedStatement): ResultSet => {
    const name = parseShow(prep.sql)
    if (name === 'all') {
      const rows = [...session.settings].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v, ''] as SqlValue[])
      return resultFromRows([{ name: 'name', oid: OID.text }, { name: 'setting', oid: OID.text }, { name: 'description', oid: OID.text }], rows)
    }
    const value = session.settings.get(name)
    if (value === undefined) throw new PgUnknownObjectError(`unrecognized configuration parameter "${name}"`, { sqlState: '42704' })
    return resultFromRows([{ name, oid: OID.text }], [[value]])
  }

  /** Runs a statement to an outcome; reads come back open, writes run (or are buffered in a block). */
  const run = async (prep: PreparedStatement, params: readonly SqlValue[], out: EngineOutput, signal?: AbortSignal): Promise<Outcome> => {
    const { cls } = prep
    signal?.throwIfAborted()
    if (status === 'E' && cls.kind !== 'commit' && cls.kind !== 'rollback') throw new PgTransactionAbortedError()
    switch (cls.kind) {
      case 'begin':
        if (status !== 'I') msg.noticeResponse(out.w, { severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' })
        status = 'T'
        return { kind: 'command', tag: 'BEGIN' }
      case 'commit': {
        if (status === 'I') {
          msg.noticeResponse(out.w, { severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' })
          return { kind: 'command', tag: 'COMMIT' }
        }
        if (status === 'E') { endBlock(); return { kind: 'command', tag: 'ROLLBACK' } }
        const batch = pending
        endBlock()
        if (batch.length > 0) await store.transaction(batch, signal !== undefined ? { signal } : {})
        return { kind: 'command', tag: 'COMMIT' }
      }
      case 'rollback':
        if (status === 'I') msg.noticeResponse(out.w, { severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' })
        endBlock()
        return { kind: 'command', tag: 'ROLLBACK' }
      case 'set': {
        const set = parseSet(prep.sql)
        if (set !== null) {
          session.settings.set(set.name, set.value)
          const reported = reportedName(set.name)
          if (reported !== undefined) msg.parameterStatus(out.w, reported, set.value)
        }
        return { kind: 'command', tag: 'SET' }
      }
      case 'reset': return { kind: 'command', tag: 'RESET' }
      case 'discard':
        statements.clear()
        for (const name of [...portals.keys()]) closePortal(name)
        return { kind: 'command', tag: 'DISCARD ALL' }
      case 'deallocate': {
        const m = /^\s*DEALLOCATE\s+(?:PREPARE\s+)?("?[\w]+"?)/i.exec(prep.sql)
        const name = (m?.[1] ?? '').replace(/"/g, '')
        if (name.toUpperCase() === 'ALL') { statements.clear(); return { kind: 'command', tag: 'DEALLOCATE ALL' } }
        statements.delete(name)
        return { kind: 'command', tag: 'DEALLOCATE' }
      }
      case 'show': return { kind: 'rows', result: show(prep) }
      case 'unsupported': throw new PgUnsupportedError(`${cls.what ?? cls.verb} is not supported`)
      case 'copy': throw new PgUnsupportedError('COPY is only supported in the simple query protocol')
      case 'sql': break
    }
    const read = openRead(prep, params)
    if (read !== null) return { kind: 'rows', result: read }
    if (readonly) throw new PgReadOnlyError(prep.verb)
    if (prep.returning) throw new PgUnsupportedError('RETURNING is not supported: writes return no rows through the store')
    if (status === 'T') {
      pending.push(paramsFor(prep, params))
      return { kind: 'command', tag: writeTag(prep.verb, 0) }
    }
    const outcome = await store.transaction([paramsFor(prep, params)], signal !== undefined ? { signal } : {})
    return { kind: 'command', tag: writeTag(prep.verb, outcome.results[0]?.rowsAffected ?? 0) }
  }

  const sendRows = async (result: ResultSet, formats: readonly number[], maxRows: number, out: EngineOutput, signal?: AbortSignal): Promise<{ count: number, more: boolean }> =>
    writeRows(result, formats, maxRows, out, flushEvery, signal)

  /** `COPY … TO STDOUT`: streams the rows of the table or query as CopyData. */
  const copyOut = async (copy: CopyStatement, out: EngineOutput, signal?: AbortSignal): Promise<void> => {
    const cols = copy.columns === null ? '*' : copy.columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ')
    const sql = copy.query ?? `SELECT ${cols} FROM "${(copy.table ?? '').replaceAll('"', '""')}"`
    const read = openRead(prepareStatement(sql), [])
    if (read === null) throw new PgUnsupportedError('COPY (query) TO STDOUT needs a read-only query')
    try {
      await writeCopyOut(read, copy, out, flushEvery, signal)
    } finally {
      read.close()
    }
  }

  /** Runs one statement of a simple query; `copy-in` means it now waits for CopyData. */
  const simpleOne = async (sql: string, out: EngineOutput, signal?: AbortSignal): Promise<'done' | 'copy-in'> => {
    const prep = prepareStatement(sql)
    if (prep.paramCount > 0) throw new PgProtocolError(`there is no parameter $${prep.paramCount}`, { sqlState: '42P02' })
    if (prep.cls.kind === 'copy') {
      if (status === 'E') throw new PgTransactionAbortedError()
      const copy = parseCopy(prep.sql)
      if (copy.direction === 'out') { await copyOut(copy, out, signal); return 'done' }
      if (readonly) throw new PgReadOnlyError('COPY FROM')
      copyIn = { ...startCopyIn(copy, store.schema()), rest: [] }
      msg.copyInResponse(out.w, copyIn.columns.length)
      return 'copy-in'
    }
    const outcome = await run(prep, [], out, signal)
    if (outcome.kind === 'command') { msg.commandComplete(out.w, outcome.tag); return 'done' }
    try {
      describeRows(out.w, outcome.result, [])
      const { count } = await sendRows(outcome.result, [], 0, out, signal)
      msg.commandComplete(out.w, `SELECT ${count}`)
    } finally {
      outcome.result.close()
    }
    return 'done'
  }

  /** Runs statements of a simple query in order; stops at an error or a COPY FROM STDIN. */
  const runParts = async (parts: readonly string[], out: EngineOutput, signal?: AbortSignal): Promise<void> => {
    for (let i = 0; i < parts.length; i++) {
      try {
        if (await simpleOne(parts[i] as string, out, signal) === 'copy-in') {
          if (copyIn !== null) copyIn.rest = parts.slice(i + 1)
          return // ReadyForQuery comes after CopyDone / CopyFail
        }
      } catch (err) {
        msg.errorResponse(out.w, errorFields(err))
        failBlock()
        break
      }
    }
    // The unnamed portal does not survive a simple query.
    closePortal('')
    msg.readyForQuery(out.w, status)
  }

  /**
   * A query string of several plain writes, outside a block, runs as one store transaction, the way
   * PostgreSQL runs a multi-statement query string as one implicit transaction: all of it or none,
   * with each statement's real row count. Returns false, having run nothing, when any part is not a
   * plain write (reads, COPY, transaction or session commands): those strings run statement by
   * statement, since a block here could not show a read the writes before it.
   */
  const runWritesAtomically = async (parts: readonly string[], out: EngineOutput, signal?: AbortSignal): Promise<boolean> => {
    // Read-only: statement by statement, so the first write is refused by name.
    if (readonly) return false
    const preps: PreparedStatement[] = []
    for (const part of parts) {
      let prep: PreparedStatement
      try { prep = prepareStatement(part) } catch { return false }
      if (prep.cls.kind !== 'sql' || prep.catalog || prep.paramCount > 0 || prep.returning) return false
      let read: ResultSet | null
      try { read = openRead(prep, [], 'never') } catch { return false }
      if (read !== null) { read.close(); return false }
      preps.push(prep)
    }
    try {
      const outcome = await store.transaction(preps.map((p) => paramsFor(p, [])), signal !== undefined ? { signal } : {})
      preps.forEach((p, i) => { msg.commandComplete(out.w, writeTag(p.verb, outcome.results[i]?.rowsAffected ?? 0)) })
    } catch (err) {
      msg.errorResponse(out.w, errorFields(err))
    }
    closePortal('')
    msg.readyForQuery(out.w, status)
    return true
  }

  const failBlock = (): void => {
    if (status === 'T') status = 'E'
  }

  return {
    get status () { return status },
    get skippingToSync () { return skipping },
    get inCopy () { return copyIn !== null },

    async simpleQuery (sql, out, options) {
      const parts = splitStatements(sql)
      if (parts.length === 0) msg.emptyQueryResponse(out.w)
      if (parts.length > 1 && status === 'I' && await runWritesAtomically(parts, out, options?.signal)) return
      await runParts(parts, out, options?.signal)
    },

    copyData (data) {
      if (copyIn !== null) addCopyData(copyIn, data, maxCopyBytes)
    },

    async copyDone (out, options) {
      const state = copyIn
      if (state === null) return
      copyIn = null
      try {
        const rows = copyInStatements(state, maxCopyBytes)
        if (status === 'T') pending.push(...rows)
        else if (rows.length > 0) await store.transaction(rows, options?.signal !== undefined ? { signal: options.signal } : {})
        msg.commandComplete(out.w, `COPY ${rows.length}`)
      } catch (err) {
        msg.errorResponse(out.w, errorFields(err))
        failBlock()
        closePortal('')
        msg.readyForQuery(out.w, status)
        return
      }
      await runParts(state.rest, out, options?.signal)
    },

    copyFail (message, out) {
      if (copyIn === null) return
      copyIn = null
      msg.errorResponse(out.w, { severity: 'ERROR', code: '57014', message: `COPY from stdin failed: ${message}` })
      failBlock()
      closePortal('')
      msg.readyForQuery(out.w, status)
    },

    parse (m, out) {
      const prep = prepareStatement(m.sql, m.paramTypes)
      if (m.name !== '' && statements.has(m.name)) {
        throw new PgDuplicateObjectError(`prepared statement "${m.name}" already exists`)
      }
      if (prep.cls.kind === 'sql') {
        if (status === 'E') throw new PgTransactionAbortedError()
        // Like PostgreSQL, report bad SQL (syntax, unknown table/column) at Parse: preparing is enough.
        if (!prep.catalog) openRead(prep, new Array<SqlValue>(prep.paramCount).fill(null), 'never')?.close()
      }
      statements.set(m.name, prep)
      msg.parseComplete(out.w)
    },

    bind (m, out) {
      const prep = statements.get(m.statement)
      if (prep === undefined) throw new PgUnknownObjectError(`prepared statement "${m.statement}" does not exist`, { sqlState: '26000' })
      if (m.params.length !== prep.paramCount) {
        throw new PgProtocolError(`bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${prep.paramCount}`)
      }
      let columns: number[] | undefined
      const columnOf = (i: number, raw: Buffer | null, format: number, typing: ParamTyping): number => {
        // Only an untyped text value that reads differently by column (booleans, timestamps) needs
        // the statement's column analysis, which needs the schema: done once per statement.
        if (raw === null || format !== 0 || typing.client !== 0 || typing.cast !== 0 || typing.array || prep.catalog) return 0
        if (!needsColumnContext(raw.toString('utf8'))) return 0
        columns ??= paramColumns(prep)
        return columns[i] ?? 0
      }
      const params = m.params.map((raw, i) => {
        const format = formatOf(m.paramFormats, i)
        const typing = prep.paramTyping[i] ?? { client: 0, cast: 0, array: false }
        return bindParam(raw, format, typing, columnOf(i, raw, format, typing), i)
      })
      if (m.portal !== '' && portals.has(m.portal)) throw new PgDuplicateObjectError(`portal "${m.portal}" already exists`, { sqlState: '42P03' })
      closePortal(m.portal)
      portals.set(m.portal, { statement: prep, params, resultFormats: m.resultFormats, ran: false })
      msg.bindComplete(out.w)
    },

    describe (kind, name, out) {
      if (kind === 'S') {
        const prep = statements.get(name)
        if (prep === undefined) throw new PgUnknownObjectError(`prepared statement "${name}" does not exist`, { sqlState: '26000' })
        msg.parameterDescription(out.w, prep.paramTyping.map(describedParamType))
        if (prep.cls.kind === 'show') { describeRows(out.w, show(prep), []); return }
        if (prep.cls.kind !== 'sql') { msg.noData(out.w); return }
        if (status === 'E') throw new PgTransactionAbortedError()
        // Describing runs the read with NULL parameters to learn its columns, then closes it.
        const result = openRead(prep, new Array<SqlValue>(prep.paramCount).fill(null), 'try')
        if (result === null) { msg.noData(out.w); return }
        describeRows(out.w, result, [])
        result.close()
        return
      }
      const portal = portals.get(name)
      if (portal === undefined) throw new PgUnknownObjectError(`portal "${name}" does not exist`, { sqlState: '34000' })
      const { cls } = portal.statement
      if (cls.kind === 'show') {
        portal.result ??= show(portal.statement)
        describeRows(out.w, portal.result, portal.resultFormats)
        return
      }
      if (cls.kind !== 'sql' || portal.ran) { msg.noData(out.w); return }
      if (status === 'E') throw new PgTransactionAbortedError()
      if (portal.result === undefined) {
        const result = openRead(portal.statement, portal.params)
        if (result === null) { msg.noData(out.w); return }
        portal.result = result
      }
      describeRows(out.w, portal.result, portal.resultFormats)
    },

    async execute (name, maxRows, out, options) {
      const portal = portals.get(name)
      if (portal === undefined) throw new PgUnknownObjectError(`portal "${name}" does not exist`, { sqlState: '34000' })
      if (portal.result === undefined && !portal.ran) {
        const outcome = await run(portal.statement, portal.params, out, options?.signal)
        portal.ran = true
        if (outcome.kind === 'command') {
          portal.tag = outcome.tag
        } else {
          portal.result = outcome.result
        }
      } else if (status === 'E') {
        throw new PgTransactionAbortedError()
      }
      if (portal.result !== undefined) {
        portal.ran = true
        const { count, more } = await sendRows(portal.result, portal.resultFormats, maxRows < 0 ? 0 : maxRows, out, options?.signal)
        if (more) { msg.portalSuspended(out.w); return }
        portal.result.close()
        delete portal.result
        portal.tag = `SELECT ${count}`
        msg.commandComplete(out.w, portal.tag)
        return
      }
      msg.commandComplete(out.w, portal.tag ?? 'SELECT 0')
    },

    close (kind, name, out) {
      if (kind === 'S') statements.delete(name)
      else closePortal(name)
      msg.closeComplete(out.w)
    },

    sync (out) {
      skipping = false
      // Portals live until the end of the transaction: outside a block, that is every Sync.
      if (status === 'I') for (const name of [...portals.keys()]) closePortal(name)
      msg.readyForQuery(out.w, status)
    },

    fail (err, out) {
      msg.errorResponse(out.w, errorFields(err))
      failBlock()
      skipping = true
    },

    end () {
      copyIn = null
      for (const name of [...portals.keys()]) closePortal(name)
      statements.clear()
      pending = []
    }
  }
}
