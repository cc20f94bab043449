// `npm run bench [-- NAME...]`: runs every benchmark script (`packages/*/bench/*.bench.ts`,
// `apps/*/bench/*.bench.ts`), or those whose file name matches a NAME. Each script prints one JSON
// object per line: {"bench", "metric", "value", "unit", "baseline", "ratio"}.
import { readdirSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('../..', import.meta.url))
const argv = process.argv.slice(2)
let pkgFilter
const names = []
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--package') pkgFilter = argv[++i]
  else names.push(argv[i])
}
const files = []
for (const group of ['packages', 'apps']) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const pkg of readdirSync(dir)) {
    if (pkgFilter != null && pkg !== pkgFilter) continue
    const bench = join(dir, pkg, 'bench')
    if (!existsSync(bench)) continue
    for (const f of readdirSync(bench).sort()) {
      if (!f.endsWith('.bench.ts')) continue
      const name = f.slice(0, -'.bench.ts'.length)
      if (names.length > 0 && !names.includes(name)) continue
      files.push(join(bench, f))
    }
  }
}
if (files.length === 0) {
  console.error(`no benchmark matches ${names.join(', ') || '(any)'}`)
  process.exit(names.length > 0 ? 1 : 0)
}
let failed = 0
for (const file of files) {
  const r = spawnSync(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', '--expose-gc', file], { stdio: 'inherit', cwd: root })
  if (r.status !== 0) { failed++; console.error(`benchmark failed: ${file}`) }
}
process.exit(failed > 0 ? 1 : 0)
