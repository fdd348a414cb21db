// pino options shared by the server and the CLI. Logs carry no secrets and no personal data:
// credentials and cookies are redacted, and URLs are logged without their query string, which
// can hold codes, tokens or a login_hint email.
import type { LoggerOptions } from 'pino'
import type { Config } from './config.ts'

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.code',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.email',
  '*.phone_number',
  '*.csrf_token',
]

export function pathWithoutQuery(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: request.method,
        url: pathWithoutQuery(request.url),
        remoteAddress: request.ip ?? request.socket?.remoteAddress,
      }),
    },
  }
}
