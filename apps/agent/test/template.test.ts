import { describe, it, expect } from 'vitest'
import { renderTemplate } from '../src/template.ts'
import { parseTemplateSpec } from '../src/commands/template-command.ts'

describe('renderTemplate', () => {
  it('renders rows from sql() and reports the queries it ran', async () => {
    const tpl = '<% const rows = await it.sql("SELECT id, name FROM svc WHERE port > ?", [80]) %>' +
      '<% for (const r of rows) { %>server <%= r.name %> <%= r.id %>\n<% } %>' +
      'csv:\n<%= rows.toCsv() %>json: <%= JSON.stringify(rows) %>'
    const calls: unknown[] = []
    const { output, queries } = await renderTemplate(tpl, async (sql, params) => {
      calls.push([sql, params])
      return { columns: ['id', 'name'], rows: [[1, 'a'], [2, 'b,c']] }
    })
    expect(output).toBe('server a 1\nserver b,c 2\ncsv:\nid,name\n1,a\n2,"b,c"\njson: [{"id":1,"name":"a"},{"id":2,"name":"b,c"}]')
    expect(queries).toEqual([{ sql: 'SELECT id, name FROM svc WHERE port > ?', params: [80] }])
    expect(calls).toHaveLength(1)
  })

  it('keeps newlines as written; -%> trims one (the README example)', async () => {
    const tpl = '<% const backends = await it.sql("SELECT name, port FROM svc ORDER BY name") %>\n<% for (const b of backends) { -%>\nserver <%= b.name %> 127.0.0.1:<%= b.port %>\n<% } -%>\n'
    const { output } = await renderTemplate(tpl, async () => ({ columns: ['name', 'port'], rows: [['a', 1], ['b', 2]] }))
    expect(output).toBe('\nserver a 127.0.0.1:1\nserver b 127.0.0.1:2\n')
  })

  it('turns template mistakes into TemplateError', async () => {
    await expect(renderTemplate('<%= it.nope() %>', async () => ({ columns: [], rows: [] }))).rejects.toMatchObject({ name: 'TemplateError' })
    await expect(renderTemplate('<% if ( %>', async () => ({ columns: [], rows: [] }))).rejects.toMatchObject({ name: 'TemplateError' })
  })

  it('parses src:dst[:cmd] specs', () => {
    expect(parseTemplateSpec('/a.eta:/b.conf')).toEqual({ src: '/a.eta', dst: '/b.conf' })
    expect(parseTemplateSpec('/a.eta:/b.conf:echo a:b')).toEqual({ src: '/a.eta', dst: '/b.conf', cmd: 'echo a:b' })
    expect(() => parseTemplateSpec('/a.eta')).toThrow(/src/)
  })
})
