// GET /metrics (Prometheus text format) when METRICS=true: requests per route and status,
// database round trips, process CPU and memory. Off by default; do not expose it publicly.
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import type { Database } from '../storage/database.ts'

export default fp<{ database: Database }>(
  async (app, { database }) => {
    let queries = 0
    // Queries of the metrics endpoint itself are not counted.
    let counting = true
    const stopWatching = database.watchQueries(() => void (counting && queries++))
    app.addHook('onClose', async () => stopWatching())
    const requests = new Map<string, number>()
    app.addHook('onResponse', async (request, reply) => {
      const key = `method="${request.method}",route="${request.routeOptions.url ?? 'unmatched'}",status="${reply.statusCode}"`
      requests.set(key, (requests.get(key) ?? 0) + 1)
    })
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      // Rows of the tables the cleanup keeps bounded (exact counts: metrics are opt-in).
      counting = false
      const counted = await sql<{ table: string; rows: string }>`
        SELECT 'sessions' AS table, count(*) AS rows FROM sessions UNION ALL
        SELECT 'interactions', count(*) FROM interactions UNION ALL
        SELECT 'authorization_codes', count(*) FROM authorization_codes UNION ALL
        SELECT 'access_tokens', count(*) FROM access_tokens UNION ALL
        SELECT 'refresh_tokens', count(*) FROM refresh_tokens UNION ALL
        SELECT 'channel_access_tokens', count(*) FROM channel_access_tokens`.execute(app.db)
      counting = true
      const cpu = process.cpuUsage()
      const lines = [
        '# TYPE plusid_db_queries_total counter',
        `plusid_db_queries_total ${queries}`,
        '# TYPE plusid_http_requests_total counter',
        ...[...requests].map(([labels, count]) => `plusid_http_requests_total{${labels}} ${count}`),
        '# TYPE process_cpu_seconds_total counter',
        `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
        '# TYPE plusid_table_rows gauge',
        ...counted.rows.map((row) => `plusid_table_rows{table="${row.table}"} ${row.rows}`),
      ]
      return reply
        .header('cache-control', 'no-store')
        .type('text/plain; version=0.0.4')
        .send(lines.join('\n') + '\n')
    })
  },
  { name: 'plusid-metrics', dependencies: ['plusid-database'] },
)
