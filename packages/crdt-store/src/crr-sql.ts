import { q, lit } from './table-info.ts'
import type { ColumnMeta, CrrTable } from './table-info.ts'

/** Cells of one version are numbered below this; a stamp is `version * SEQ_SPAN + seq`. */
export const SEQ_SPAN = 16777216

/** Largest value a cell may hold (bytes): a cell always travels whole in one message. */
export const MAX_CELL_BYTES = 32 * 1024 * 1024

/** Largest primary-key value (bytes). */
export const MAX_KEY_BYTES = 1024 * 1024

/** Prefix of the trigger error raised for an oversized cell (mapped to TransactionTooLargeError). */
export const CELL_TOO_LARGE = 'patina: cell too large'

/** Highest seq a version may hold. */
export const MAX_SEQ = SEQ_SPAN - 1

/** Highest version number: stamps must fit a signed 64-bit integer. */
export const MAX_VERSION = 2 ** 39 - 1

/** Name of a table's clock table. */
export function clockName (table: string): string { return `${table}__crsql_clock` }

/** Suffixes of the three clock fields of a column: col_version, site ordinal, stamp. */
export function cellCols (col: string): [string, string, string] { return [`${col}__v`, `${col}__s`, `${col}__t`] }

/**
 * The clock table: one row per table row. `__cl` is the causal length (the sentinel's
 * col_version), `__ss`/`__st` the sentinel's origin (NULL stamp = no sentinel change), then per
 * column its col_version, origin site ordinal and stamp.
 */
export function clockTableSql (t: CrrTable): string {
  const parts: string[] = []
  if (t.intPk) parts.push(`${q(t.pks[0]!.name)} INTEGER PRIMARY KEY`)
  else for (const p of t.pks) parts.push(`${q(p.name)} ${p.type}`)
  parts.push('"__cl" INTEGER NOT NULL', '"__ss" INTEGER', '"__st" INTEGER')
  for (const c of t.cols) for (const f of cellCols(c.name)) parts.push(`${q(f)} INTEGER`)
  if (!t.intPk) parts.push(`PRIMARY KEY (${t.pks.map(p => q(p.name)).join(', ')})`)
  return `CREATE TABLE IF NOT EXISTS ${q(clockName(t.name))} (${parts.join(', ')})${t.intPk ? '' : ' WITHOUT ROWID'}`
}

/** `ALTER TABLE` statements adding a new column's clock fields (no existing row is rewritten). */
export function addClockColumnSql (t: CrrTable, col: string): string[] {
  return cellCols(col).map(f => `ALTER TABLE ${q(clockName(t.name))} ADD COLUMN ${q(f)} INTEGER`)
}

function pkMatch (t: CrrTable, alias: string, rec: string): string {
  return t.pks.map(p => `${alias}.${q(p.name)} = ${rec}.${q(p.name)}`).join(' AND ')
}

/**
 * SQL that is true when column `c` changed value or storage class. Compared byte for byte: a
 * column's own collation (NOCASE, RTRIM) would call 'a' and 'A' equal, and that change would never
 * replicate.
 */
function changed (c: ColumnMeta): string {
  const n = q(c.name)
  const value = `NEW.${n} IS NOT OLD.${n} COLLATE BINARY`
  // only a column without affinity (BLOB, or a STRICT table's ANY) keeps values in the storage
  // class they arrive in, so only there can an INTEGER follow an equal REAL, which `IS` calls equal
  return c.affinity === 'BLOB' ? `(${value} OR typeof(NEW.${n}) != typeof(OLD.${n}))` : `(${value})`
}

/** SQL true for a clock row whose sentinel is a fresh insert's: implied, causal length 1. */
const FRESH = '("__st" IS NULL AND "__cl" = 1)'

/** True when the table's key is one INTEGER/NUMERIC column (recorded as a JS number when safe). */
export function numericKey (t: CrrTable): boolean {
  return t.pks.length === 1 && (t.pks[0]!.affinity === 'INTEGER' || t.pks[0]!.affinity === 'NUMERIC')
}

/** Names of the fixed triggers of a CRR table (per-column update triggers come on top). */
export function triggerNames (table: string): string[] {
  return ['itrig', 'ptrig', 'dtrig'].map(s => `${table}__crsql_${s}`)
}

/**
 * The local-write triggers. Each calls `patina_sq(n, kind, table, pk…)` once: it reserves `n` seqs
 * of the pending version and returns the first one's stamp, or NULL while merging (so merged writes
 * record nothing) and when nothing changed. INSERT reads it through a one-row subquery; UPDATE and
 * DELETE call it in the WHERE clause and read it again with `patina_stamp()` (UPDATE … FROM a
 * subquery costs several times more per row). `n` and `kind` are passed as REAL so the
 * safe-integer UDF does not allocate bigints for them.
 */
export function triggersSql (t: CrrTable): string[] {
  const T = q(t.name)
  const C = q(clockName(t.name))
  const tl = lit(t.name)
  const newPk = t.pks.map(p => `NEW.${q(p.name)}`).join(', ')
  const pkCols = t.pks.map(p => q(p.name)).join(', ')
  const n = t.cols.length
  const [itrig, ptrig, dtrig] = triggerNames(t.name).map(q)
  // A single INTEGER/NUMERIC key within ±2^53 goes to the number variant of the function: no
  // bigint per row, and cheap map keys for the rows a transaction touched.
  const numKey = numericKey(t)
  // oversized values could never replicate (one cell always travels whole): refuse the write
  // (octet_length of a number would format it as text: other columns test the type first, as
  // `x >= ''`, true exactly for TEXT and BLOB values and cheaper than a typeof() call)
  const tooBig = (c: ColumnMeta, limit: number): string => {
    const len = `octet_length(NEW.${q(c.name)}) > ${limit}`
    const cond = c.affinity === 'TEXT' || c.affinity === 'BLOB' ? len : `(NEW.${q(c.name)} >= '' AND ${len})`
    return `WHEN ${cond} THEN RAISE(ABORT, ${lit(`${CELL_TOO_LARGE}: ${t.name}.${c.name} exceeds ${limit} bytes`)})`
  }
  const sizeCheck = (cols: readonly [ColumnMeta, number][]): string => cols.length === 0 ? '1' : `CASE ${cols.map(([c, l]) => tooBig(c, l)).join(' ')} ELSE 1 END`
  // an INTEGER PRIMARY KEY is the rowid: always an integer, never oversized
  const keyChecks = t.intPk ? [] : t.pks.map(p => [p, MAX_KEY_BYTES] as [ColumnMeta, number])
  const rowSizeCheck = sizeCheck([...keyChecks, ...t.cols.map(c => [c, MAX_CELL_BYTES] as [ColumnMeta, number])])
  const sq = (fn: string, args: string, rec: 'NEW' | 'OLD'): string => {
    const pk = t.pks.map(p => `${rec}.${q(p.name)}`).join(', ')
    const call = (f: string): string => `${f}(${args}, ${tl}, ${pk})`
    return numKey ? `CASE WHEN ${pk} BETWEEN -9007199254740991 AND 9007199254740991 THEN ${call(fn + 'n')} ELSE ${call(fn)} END` : call(fn)
  }
  const out: string[] = []

  // INSERT: slot 0 is the sentinel (used only when the key already has a clock row), 1..n columns.
  const insCols = [pkCols, '"__cl"', '"__ss"', '"__st"', ...t.cols.flatMap(c => cellCols(c.name).map(q))].join(', ')
  const insVals = [newPk, '1', n === 0 ? '0' : 'NULL', n === 0 ? 'x.s' : 'NULL', ...t.cols.flatMap((_, i) => ['1', '0', `x.s + ${i + 1}`])].join(', ')
  // on conflict the sentinel takes slot 0 (excluded."__st" is NULL when the table has columns)
  const stFrom = n === 0 ? 'excluded."__st"' : `excluded.${q(cellCols(t.cols[0]!.name)[2])} - 1`
  // a live row only ever inserted (sentinel implied, cl 1) keeps it that way, as cr-sqlite does for
  // REPLACE; a sentinel implied later, by a column change that resurrected the row, stands for one
  // cr-sqlite has, so REPLACE moves that life on (cl + 2) whatever order the versions came in.
  // patina_existed tells the commit event that a live row was replaced (an update, not an insert)
  const upd = n === 0
    ? ['"__cl" = CASE "__cl" % 2 WHEN 0 THEN "__cl" + 1 ELSE "__cl" + 2 END', '"__ss" = patina_existed("__cl" % 2, 0)', `"__st" = ${stFrom}`]
    : [`"__cl" = CASE WHEN ${FRESH} THEN "__cl" WHEN "__cl" % 2 = 0 THEN "__cl" + 1 ELSE "__cl" + 2 END`,
        `"__ss" = patina_existed("__cl" % 2, CASE WHEN ${FRESH} THEN NULL ELSE 0 END)`, `"__st" = CASE WHEN ${FRESH} THEN NULL ELSE ${stFrom} END`]
  for (const c of t.cols) {
    const [v, s, ts] = cellCols(c.name).map(q) as [string, string, string]
    upd.push(`${v} = COALESCE(${v}, 0) + 1`, `${s} = 0`, `${ts} = excluded.${ts}`)
  }
  out.push(`CREATE TRIGGER IF NOT EXISTS ${itrig} AFTER INSERT ON ${T} BEGIN
INSERT INTO ${C} (${insCols}) SELECT ${insVals} FROM (SELECT ${sq('patina_sq', `${n + 1}.0, 0.0`, 'NEW')} AS s LIMIT 1) AS x WHERE x.s IS NOT NULL AND ${rowSizeCheck}
ON CONFLICT DO UPDATE SET ${upd.join(', ')};
END`)

  // UPDATE without key change: one trigger per column, fired only when the statement sets that
  // column and its value or storage class changed (cheaper than one trigger re-testing every column)
  const samePk = t.pks.map(p => `NEW.${q(p.name)} IS OLD.${q(p.name)}${t.intPk ? '' : ' COLLATE BINARY'}`).join(' AND ')
  for (const c of t.cols) {
    const [v, s, ts] = cellCols(c.name).map(q) as [string, string, string]
    out.push(`CREATE TRIGGER IF NOT EXISTS ${q(`${t.name}__crsql_utrig_${c.name}`)} AFTER UPDATE OF ${q(c.name)} ON ${T} WHEN ${samePk} AND ${changed(c)} BEGIN
UPDATE ${C} SET ${v} = COALESCE(${v}, 0) + 1, ${s} = 0, ${ts} = patina_stamp()
WHERE ${pkMatch(t, C, 'NEW')} AND ${sq('patina_sq', '1.0, 1.0', 'NEW')} IS NOT NULL AND ${sizeCheck([[c, MAX_CELL_BYTES]])};
END`)
  }

  // UPDATE that changes the key: the new key takes every column with col_version + 1 as a local
  // write (the fork's fix), the old key becomes a tombstone. Seqs: old sentinel, new sentinel, columns.
  {
    const cols = [pkCols, '"__cl"', '"__ss"', '"__st"', ...t.cols.flatMap(c => cellCols(c.name).map(q))].join(', ')
    const vals = [newPk, '1', '0', 'x.s + 1', ...t.cols.flatMap((c, i) => [
      `COALESCE((SELECT ${q(cellCols(c.name)[0])} FROM ${C} AS o WHERE ${pkMatch(t, 'o', 'OLD')}), 0) + 1`, '0', `x.s + ${i + 2}`])].join(', ')
    // Moving onto a live row that was only ever inserted keeps its life (cl 1, now with an explicit
    // sentinel, as cr-sqlite has): a higher cl would wipe concurrent edits of that row elsewhere.
    // Each column gets a col_version above both the moved row's and the one it overwrites: with
    // the moved row's alone, the write could tie with the cell it replaced and lose that tie on the
    // other replicas while standing here, and the replicas would never agree.
    // (patina_existed: a live row was replaced, so the commit event reports an update of that key)
    const sets = [`"__cl" = CASE WHEN "__cl" % 2 = 0 THEN "__cl" + 1 WHEN ${FRESH} THEN "__cl" ELSE "__cl" + 2 END`, '"__ss" = patina_existed("__cl" % 2, 0)', '"__st" = excluded."__st"',
      ...t.cols.flatMap(c => {
        const [v, cs, ct] = cellCols(c.name).map(q) as [string, string, string]
        return [`${v} = MAX(excluded.${v}, COALESCE(${v}, 0) + 1)`, `${cs} = excluded.${cs}`, `${ct} = excluded.${ct}`]
      })]
    const nulls = t.cols.flatMap(c => cellCols(c.name).map(f => `${q(f)} = NULL`))
    // fired only by statements that set a key column (or a rowid alias, which is the key of an
    // INTEGER PRIMARY KEY table): other updates skip even evaluating its WHEN clause
    const keyCols = [...t.pks.map(p => q(p.name)), ...(t.intPk ? ['rowid', '_rowid_', 'oid'] : [])].join(', ')
    out.push(`CREATE TRIGGER IF NOT EXISTS ${ptrig} AFTER UPDATE OF ${keyCols} ON ${T} WHEN NOT (${samePk}) BEGIN
INSERT INTO ${C} (${cols}) SELECT ${vals} FROM (SELECT ${sq('patina_sq', `${n + 2}.0, 0.0`, 'NEW')} AS s LIMIT 1) AS x WHERE x.s IS NOT NULL AND ${rowSizeCheck}
ON CONFLICT DO UPDATE SET ${sets.join(', ')};
UPDATE ${C} SET "__cl" = "__cl" + 1, "__ss" = 0, "__st" = ${sq('patina_last', '2.0', 'OLD')}${nulls.length > 0 ? ', ' + nulls.join(', ') : ''}
WHERE ${pkMatch(t, C, 'OLD')};
END`)
  }

  // DELETE: sentinel becomes even, column clocks are dropped.
  {
    const nulls = t.cols.flatMap(c => cellCols(c.name).map(f => `${q(f)} = NULL`))
    out.push(`CREATE TRIGGER IF NOT EXISTS ${dtrig} AFTER DELETE ON ${T} BEGIN
UPDATE ${C} SET "__cl" = "__cl" + 1, "__ss" = 0, "__st" = patina_stamp()${nulls.length > 0 ? ', ' + nulls.join(', ') : ''}
WHERE ${pkMatch(t, C, 'OLD')} AND ${sq('patina_sq', '1.0, 2.0', 'OLD')} IS NOT NULL;
END`)
  }
  return out
}

/** Key columns the `patina_keys` table-valued function returns (composite keys up to this wide). */
export const MAX_KEY_COLUMNS = 16

/**
 * The `crsql_changes` view: one row per cell (and per sentinel) of every CRR. Each arm walks the
 * version index (`__patina_sites` → `__patina_versions` by primary key), expands the version's row
 * list with `patina_keys(site, dbv, rows, table)` and looks the rows up by key, keeping the cells
 * whose origin is that version. So a filter on `site_id` and `db_version` is an index search, and
 * every cell appears exactly once (under its origin version).
 */
export function changesViewSql (tables: readonly CrrTable[]): string {
  const parts: string[] = []
  for (const t of tables) {
    const C = q(clockName(t.name))
    const pack = `crsql_pack_columns(${t.pks.map(p => `c.${q(p.name)}`).join(', ')})`
    const tl = lit(t.name)
    // CROSS JOIN fixes the nesting order: sites, versions, keys, clock rows, values
    const from = `FROM "__patina_sites" AS s CROSS JOIN "__patina_versions" AS v ON v.site = s.ordinal
CROSS JOIN patina_keys(v.site, v.dbv, v.rows, ${tl}) AS k
CROSS JOIN ${C} AS c ON ${t.pks.map((p, i) => `c.${q(p.name)} = k.k${i}`).join(' AND ')}`
    parts.push(`SELECT ${tl} AS "table", ${pack} AS pk, '-1' AS cid, NULL AS val, c."__cl" AS col_version, v.dbv AS db_version, s.site_id AS site_id, c."__cl" AS cl, c."__st" % ${SEQ_SPAN} AS seq, v.ts AS ts
${from}
WHERE c."__ss" = v.site AND c."__st" / ${SEQ_SPAN} = v.dbv`)
    for (const col of t.cols) {
      const [cv, cs, ct] = cellCols(col.name).map(f => `c.${q(f)}`) as [string, string, string]
      parts.push(`SELECT ${tl}, ${pack}, ${lit(col.name)}, b.${q(col.name)}, ${cv}, v.dbv, s.site_id, c."__cl", ${ct} % ${SEQ_SPAN}, v.ts
${from}
LEFT JOIN ${q(t.name)} AS b ON ${t.pks.map(p => `b.${q(p.name)} = c.${q(p.name)}`).join(' AND ')}
WHERE ${cs} = v.site AND ${ct} / ${SEQ_SPAN} = v.dbv AND ${cv} IS NOT NULL`)
    }
  }
  if (parts.length === 0) {
    parts.push('SELECT NULL AS "table", NULL AS pk, NULL AS cid, NULL AS val, NULL AS col_version, NULL AS db_version, NULL AS site_id, NULL AS cl, NULL AS seq, NULL AS ts WHERE 0')
  }
  return `CREATE VIEW crsql_changes AS ${parts.join('\nUNION ALL\n')}`
}

/** `version * SEQ_SPAN + seq`; a bigint once it no longer fits a double exactly. */
export function stampOf (version: number, seq: number): number | bigint {
  return version < 536870912 ? version * SEQ_SPAN + seq : BigInt(version) * BigInt(SEQ_SPAN) + BigInt(seq)
}

