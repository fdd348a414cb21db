// GET /metrics (Prometheus text format) when METRICS=true: requests per route and status,
// database round trips, process CPU and memory. Off by default; do not expose it publicly.
import fp from 'fastify-plugin'
import type { Database } from '../storage/database.ts'

export default fp<{ database: Database }>(
  async (app, { database }) => {
    let queries = 0
    const stopWatching = database.watchQueries(() => void queries++)
    app.addHook('onClose', async () => stopWatching())
    const requests = new Map<string, number>()
    app.addHook('onResponse', async (request, reply) => {
      const key = `method="${request.method}",route="${request.routeOptions.url ?? 'unmatched'}",status="${reply.statusCode}"`
      requests.set(key, (requests.get(key) ?? 0) + 1)
    })
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
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
      ]
      return reply.header('cache-control', 'no-store').type('text/plain; version=0.0.4').send(lines.join('\n') + '\n')
    })
  },
  { name: 'plusid-metrics', dependencies: ['plusid-database'] },
)
