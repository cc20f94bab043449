// Run three times on one host (each in its own terminal):
//   npx node --conditions=@patina/source examples/three-members.ts 7946
//   npx node --conditions=@patina/source examples/three-members.ts 7947 127.0.0.1:7946
//   npx node --conditions=@patina/source examples/three-members.ts 7948 127.0.0.1:7946
// Ctrl-C leaves gracefully: the others print `left`, not `down`.
import { createSwim } from '@patina/swim-membership'

const [port = '7946', ...seeds] = process.argv.slice(2)
const swim = createSwim({
  bind: `127.0.0.1:${port}`,
  identity: { id: `node-${port}`, meta: new TextEncoder().encode('hello') },
  seeds,
  config: 'local'
})
swim.addEventListener('member:up', (e) => { console.log('up', e.detail.id, e.detail.addr) })
swim.addEventListener('member:down', (e) => { console.log('down', e.detail.id) })
swim.addEventListener('member:left', (e) => { console.log('left', e.detail.id) })
await swim.start()
console.log('started', swim.id, swim.addr)

process.once('SIGINT', () => {
  swim.leave().then(async () => { await swim.stop() }, console.error)
})
