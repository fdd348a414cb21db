// pino options shared by the server and the CLI. Logs carry no secrets and no personal data:
// credentials and cookies are redacted, and URLs are logged without their query string, which
// can hold codes, tokens or a login_hint email.
import { pino, type Logger, type LoggerOptions } from 'pino'
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

/**
 * The server's logger: JSON lines for log collectors, readable lines when a person watches the
 * terminal (stdout is a TTY). pino-pretty is loaded only then, and formats in this thread (no
 * transport worker), so the JSON case pays nothing for it.
 */
export async function serverLogger(config: Pick<Config, 'logLevel'>, stdout: { isTTY?: boolean } = process.stdout): Promise<Logger> {
  if (!stdout.isTTY) return pino(loggerOptions(config))
  const { default: pretty } = await import('pino-pretty')
  return pino(loggerOptions(config), pretty({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }))
}
