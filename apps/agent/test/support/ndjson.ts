/** NDJSON events of a streaming response, read as they come, each wait bounded. */
export function events (res: Response): (pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const seen: Array<Record<string, unknown>> = []
  let buf = ''
  return async (pred, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = seen.findIndex(pred)
      if (i >= 0) return seen.splice(i, 1)[0]!
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(seen)}`)
      let timer: NodeJS.Timeout | undefined
      const chunk = await Promise.race([reader.read(), new Promise<null>(resolve => { timer = setTimeout(() => resolve(null), left) })])
      clearTimeout(timer)
      if (chunk == null) continue
      if (chunk.done) throw new Error('stream ended')
      buf += decoder.decode(chunk.value, { stream: true })
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (line !== '') seen.push(JSON.parse(line) as Record<string, unknown>)
      }
    }
  }
}
