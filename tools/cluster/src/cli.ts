// `npm run cluster -- --nodes 5 [--schema file.sql] [--dir path]`: starts a local cluster and keeps it
// running until Ctrl-C.
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import { createCluster } from './cluster.ts'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    schema: { type: 'string' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})
if (values.help === true) {
  console.log('usage: npm run cluster -- [--nodes N] [--schema file.sql] [--dir path]\n\nStarts N patina agents on 127.0.0.1 (each with its own data dir) and keeps them running until Ctrl-C.')
  process.exit(0)
}
const count = Number(values.nodes)
if (!Number.isInteger(count) || count < 1 || count > 50) {
  console.error(`--nodes must be an integer from 1 to 50, got ${values.nodes}`)
  process.exit(2)
}
const schema = values.schema !== undefined
  ? readFileSync(values.schema, 'utf8')
  : 'CREATE TABLE IF NOT EXISTS kv (key TEXT NOT NULL PRIMARY KEY, value TEXT);\n'
const cluster = await createCluster({ nodes: count, schema, swimPreset: 'lan', ...(values.dir !== undefined ? { baseDir: values.dir } : {}) })
console.log(`starting ${count} nodes under ${cluster.baseDir} ...`)
try {
  await cluster.start()
} catch (err) {
  console.error(`cluster failed to start: ${(err as Error).message}`)
  await cluster.destroy()
  process.exit(1)
}
for (const n of cluster.nodes) {
  console.log(`${n.name}  api http://${n.apiAddr}  gossip ${n.gossipAddr}  admin ${n.adminPath}  actor ${n.actorId}`)
}
const first = cluster.nodes[0]
if (first !== undefined) {
  console.log(`\ntry:\n  curl -s http://${first.apiAddr}/v1/transactions -H content-type:application/json -d '[["INSERT INTO kv VALUES (?, ?)", ["hello", "world"]]]'`)
  console.log(`  curl -s http://${cluster.nodes.at(-1)?.apiAddr ?? first.apiAddr}/v1/queries -H content-type:application/json -d '"SELECT * FROM kv"'`)
  console.log(`  npx patina --admin-path ${first.adminPath} cluster members`)
}
console.log('\nCtrl-C stops every node' + (values.dir === undefined ? ' and removes the data.' : '.'))
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  console.log('\nstopping...')
  const done = values.dir === undefined ? cluster.destroy() : cluster.stop()
  done.then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1) })
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
