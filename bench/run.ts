// `npm run bench`: starts plusid as its own process on PostgreSQL (the server of DATABASE_URL, in a
// fresh database, or the embedded one), drives the hot paths from this process over 127.0.0.1 at
// concurrency 1, 16 and 64, and prints one Markdown table: operations/s, latency percentiles,
// database queries and requests per operation, server and PostgreSQL CPU per operation, peak RSS,
// plus the cost of primitives measured on the same machine. The table is also written to
// bench/results/. `npm run bench -- --soak 300` runs the returning-user flow for 300 s instead and
// samples RSS and table sizes. Traffic goes to 127.0.0.1 only; every loop is bounded in time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import net from 'node:net'
import { parseArgs } from 'node:util'
import { hash, verify } from '@node-rs/argon2'
import { SignJWT, generateKeyPair } from 'jose'
import pg from 'pg'
import { registerAccount } from '../src/auth/accounts.ts'
import { approvePermissions, createChannel, NewChannelInput } from '../src/oauth/channels.ts'
import { PROFILE_ITEMS, validateProfileForm } from '../src/profile/profile.ts'
import { openDatabase, type Database } from '../src/storage/database.ts'
import { migrate } from '../src/storage/migrate.ts'
import { saveProfile } from '../src/storage/profiles.ts'
import { installKeyring } from '../src/storage/data-keys.ts'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    soak: { type: 'string' },
    // Only scenarios whose name contains this text; --profile writes a V8 CPU profile of the server.
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    // Only the start-up measurement (first start, restart, idle RSS), no load.
    startup: { type: 'boolean', default: false },
    // Also drive oidc-provider 9 (bench/peer/) through the same consent flow, side by side.
    peer: { type: 'boolean', default: false },
  },
})
const SECONDS = Number(args.seconds)
const SOAK_SECONDS = args.soak ? Number(args.soak) : undefined
const CONCURRENCY = [1, 16, 64]
const USERS = 64
const CALLBACK = 'https://shop.example/callback'
const MASTER_KEY = randomBytes(32).toString('hex')
const PASSWORD = 'bench password 123'

// ---------- start-up: time to the ready line, and memory ----------

interface Startup {
  label: string
  readySeconds: number
  rssAtReadyMb: number
  peakRssMb: number
  idleRssMb: number
}

const IDLE_SECONDS = 10

/** Starts the compiled server, waits for its ready line, then sits idle; returns what it cost. */
async function measureStart(label: string, env: Record<string, string>): Promise<Startup> {
  const startPort = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, ['dist/server.js'], {
    env: { ...process.env, PORT: String(startPort), HOST: '127.0.0.1', PLUSID_MASTER_KEY: MASTER_KEY, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  while (!output.includes('plusid is ready')) {
    if (child.exitCode !== null || performance.now() - started > 120_000) throw new Error(`plusid did not start:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const readySeconds = (performance.now() - started) / 1000
  const rssAtReadyMb = memoryMb(child.pid!, 'VmRSS')
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000))
  const result = { label, readySeconds, rssAtReadyMb, peakRssMb: memoryMb(child.pid!, 'VmHWM'), idleRssMb: memoryMb(child.pid!, 'VmRSS') }
  child.kill('SIGTERM')
  await once(child, 'exit')
  console.log(
    `  ${label}: ready in ${result.readySeconds.toFixed(2)} s, RSS ${result.rssAtReadyMb} MB at ready, ${result.idleRssMb} MB idle, peak ${result.peakRssMb} MB`,
  )
  return result
}

/** A first start and a restart on the embedded database, and the same on the server of DATABASE_URL. */
async function measureStartups(): Promise<Startup[]> {
  if (spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' }).status !== 0) throw new Error('building the server failed')
  console.log(`Start-up (the compiled server, as npm start runs it; RSS ${IDLE_SECONDS} s after the ready line as idle):`)
  const results: Startup[] = []
  const startDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-bench-start-'))
  try {
    results.push(await measureStart('embedded, first start', { DATABASE_URL: '', DATA_DIR: startDir }))
    results.push(await measureStart('embedded, restart', { DATABASE_URL: '', DATA_DIR: startDir }))
  } finally {
    fs.rmSync(startDir, { recursive: true, force: true })
  }
  if (serverUrl) {
    const name = `plusid_bench_start_${Date.now()}`
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    try {
      results.push(await measureStart('PostgreSQL server, first start', { DATABASE_URL: url.toString() }))
      results.push(await measureStart('PostgreSQL server, restart', { DATABASE_URL: url.toString() }))
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
  return results
}

/** The start-up table as the README's Performance section shows it. */
function startupTable(results: Startup[]): string[] {
  const restart = (prefix: string) => results.find((r) => r.label === `${prefix}, restart`)
  const embedded = restart('embedded')
  const server = restart('PostgreSQL server')
  const lines = [
    '| start | ready s | RSS at ready MB | idle RSS MB | peak RSS MB |',
    '|---|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.label} | ${r.readySeconds.toFixed(2)} | ${r.rssAtReadyMb} | ${r.idleRssMb} | ${r.peakRssMb} |`),
  ]
  if (embedded && server)
    lines.push(
      '',
      `Embedded restart ÷ PostgreSQL server restart: ${(embedded.readySeconds / server.readySeconds).toFixed(1)}× (target ≤ 3×); embedded idle RSS ${embedded.idleRssMb} MB (target < 300 MB).`,
    )
  return lines
}

// ---------- the database and the seed ----------

const serverUrl = process.env.DATABASE_URL || undefined

// A run narrowed with --only is about load: it skips the start-up measurement.
const startups = args.only && !args.startup ? [] : await measureStartups()
if (args.startup) {
  console.log('\n' + startupTable(startups).join('\n'))
  process.exit(0)
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-bench-'))
let benchDbUrl: string | undefined
let dropBenchDb = async () => {}
if (serverUrl) {
  const name = `plusid_bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  benchDbUrl = url.toString()
  dropBenchDb = async () => {
    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  }
}

async function seed(database: Database) {
  await migrate(database)
  await installKeyring(database.db, Buffer.from(MASTER_KEY, 'hex'))
  const input = NewChannelInput.parse({ name: 'Bench Shop', callbackUrls: [CALLBACK], publish: true })
  const channel = await createChannel(database.db, Buffer.from(MASTER_KEY, 'hex'), input)
  await approvePermissions(database.db, channel.channelId, ['email', 'real_name', 'phone', 'address'])
  const profile = validateProfileForm(
    {
      family_name: '山田',
      given_name: '花子',
      family_name_pronunciation: 'ヤマダ',
      given_name_pronunciation: 'ハナコ',
      phone_number: '090-1234-5678',
      'address.postal_code': '1028282',
      'address.region': '東京都',
      'address.locality': '千代田区',
      'address.street_address': '1番3号',
    },
    PROFILE_ITEMS,
  )
  if (!profile.ok) throw new Error('bad seed profile')
  const emails: string[] = []
  for (let i = 0; i < USERS; i++) {
    const email = `bench${i}@example.com`
    const registration = await registerAccount(database.db, { email, password: PASSWORD, displayName: `Bench ${i}` })
    if (!registration.ok) throw new Error('seed failed')
    await saveProfile(database.db, registration.user.id, profile.profile)
    emails.push(email)
  }
  return { channelId: channel.channelId, secret: channel.channelSecret!, emails }
}

const seedDb = await openDatabase({ databaseUrl: benchDbUrl, dataDir: serverUrl ? undefined : dataDir })
const seeded = await seed(seedDb)
const postgresVersion = String((await seedDb.withRawConnection((c) => c.query<{ version: string }>('SELECT version()')))[0]?.version).split(
  ' on ',
)[0]
await seedDb.close()

// ---------- the server process ----------

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

const port = await freePort()
const BASE = `http://127.0.0.1:${port}`
const soakEnv = SOAK_SECONDS
  ? {
      ACCESS_TOKEN_TTL_SECONDS: '60',
      REFRESH_TOKEN_TTL_SECONDS: '60',
      AUTHORIZATION_CODE_TTL_SECONDS: '10',
      SESSION_TTL_SECONDS: '3600',
      CLEANUP_INTERVAL_SECONDS: '10',
    }
  : {}
// The server as `npm start` runs it: the compiled bundle (built now unless current).
if (spawnSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' }).status !== 0) throw new Error('building the server failed')
const server: ChildProcess = spawn(
  process.execPath,
  [...(args.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : []), 'dist/server.js'],
  {
    env: {
      ...process.env,
      DATABASE_URL: benchDbUrl ?? '',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: BASE,
      PLUSID_MASTER_KEY: MASTER_KEY,
      LOG_LEVEL: 'warn',
      METRICS: 'true',
      // All load comes from 127.0.0.1: per-IP limits would measure the limiter, not plusid.
      LOGINS_PER_IP_PER_MINUTE: '1000000',
      REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
      TOKEN_FAILURES_PER_IP_PER_MINUTE: '1000000',
      ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE: '1000000',
      ...soakEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
let serverOutput = ''
server.stdout!.on('data', (chunk) => (serverOutput += chunk))
for (let waited = 0; !serverOutput.includes('plusid is ready'); waited += 100) {
  if (waited > 60_000 || server.exitCode !== null) throw new Error(`plusid did not start:\n${serverOutput}`)
  await new Promise((resolve) => setTimeout(resolve, 100))
}

async function stopServer() {
  if (server.exitCode === null) {
    server.kill('SIGTERM')
    await once(server, 'exit')
  }
  await dropBenchDb()
  fs.rmSync(dataDir, { recursive: true, force: true })
}

// ---------- measuring ----------

const TICK_MS = 1000 / 100 // /proc CPU times are in clock ticks of 10 ms on Linux

function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

/** CPU of every PostgreSQL server process (backends and workers); 0 when there is none (PGlite). */
function postgresCpuMs(): number {
  if (!serverUrl) return 0
  let total = 0
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return total
}

function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Math.round(Number(match?.[1] ?? 0) / 1024)
}

async function metrics(): Promise<{ queries: number; rows: Record<string, number> }> {
  const text = await (await fetch(`${BASE}/metrics`)).text()
  const queries = Number(/plusid_db_queries_total (\d+)/.exec(text)?.[1] ?? 0)
  const rows: Record<string, number> = {}
  for (const match of text.matchAll(/plusid_table_rows\{table="([a-z_]+)"\} (\d+)/g)) rows[match[1]!] = Number(match[2])
  return { queries, rows }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN
}

interface Result {
  scenario: string
  concurrency: number
  ops: number
  opsPerSecond: number
  p50: number
  p95: number
  p99: number
  queriesPerOp: number
  requestsPerOp: number
  serverCpuMsPerOp: number
  postgresCpuMsPerOp: number
  peakRssMb: number
}

/** The process under load: its pid (for CPU and RSS) and its count of database statements. */
interface Target {
  pid: () => number
  queries: () => Promise<number>
}
const plusidTarget: Target = { pid: () => server.pid!, queries: async () => (await metrics()).queries }

/** Runs `op` in `concurrency` loops for `seconds`; each loop gets its worker index. */
async function load(
  scenario: string,
  concurrency: number,
  seconds: number,
  requestsPerOp: number,
  op: (worker: number) => Promise<void>,
  target = plusidTarget,
): Promise<Result> {
  const latencies: number[] = []
  const before = { cpu: processCpuMs(target.pid()), pg: postgresCpuMs(), queries: await target.queries() }
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const t0 = performance.now()
        await op(worker)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  const after = { cpu: processCpuMs(target.pid()), pg: postgresCpuMs(), queries: await target.queries() }
  latencies.sort((a, b) => a - b)
  const ops = latencies.length
  return {
    scenario,
    concurrency,
    ops,
    opsPerSecond: ops / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    queriesPerOp: (after.queries - before.queries) / ops,
    requestsPerOp,
    serverCpuMsPerOp: (after.cpu - before.cpu) / ops,
    postgresCpuMsPerOp: (after.pg - before.pg) / ops,
    peakRssMb: memoryMb(target.pid(), 'VmHWM'),
  }
}

// ---------- a minimal browser ----------

class Jar {
  private cookies = new Map<string, string>()
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  take(response: Response) {
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]!
      const eq = pair.indexOf('=')
      const value = pair.slice(eq + 1)
      if (value === '') this.cookies.delete(pair.slice(0, eq))
      else this.cookies.set(pair.slice(0, eq), value)
    }
  }
}

async function request(url: string, init: RequestInit & { jar?: Jar } = {}): Promise<{ response: Response; body: string }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) }
  if (init.jar) headers.cookie = init.jar.header()
  const response = await fetch(url.startsWith('http') ? url : BASE + url, { ...init, headers, redirect: 'manual' })
  init.jar?.take(response)
  const body = await response.text()
  if (response.status >= 500) throw new Error(`${url}: ${response.status} ${body}`)
  return { response, body }
}

const form = (fields: Record<string, string | string[]>) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) for (const item of [v].flat()) params.append(k, item)
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() }
}
const csrf = (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)![1]!

const authorizeUrl = (extra: Record<string, string> = {}) =>
  `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: seeded.channelId, redirect_uri: CALLBACK, scope: 'openid profile email phone address', state: randomBytes(8).toString('hex'), nonce: 'n', ...extra })}`

async function exchange(code: string) {
  const { response, body } = await request(
    '/oauth2/v2.1/token',
    form({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: seeded.channelId, client_secret: seeded.secret }),
  )
  if (response.status !== 200) throw new Error(`token: ${response.status} ${body}`)
  return JSON.parse(body) as { access_token: string; refresh_token: string }
}

async function userinfo(accessToken: string) {
  const { response } = await request('/oauth2/v2.1/userinfo', { headers: { authorization: `Bearer ${accessToken}` } })
  if (response.status !== 200) throw new Error(`userinfo: ${response.status}`)
}

const codeOf = (response: Response) => new URL(response.headers.get('location')!).searchParams.get('code')!

/** Login and consent from a browser with no session: the first-time flow. Returns the jar, logged in. */
async function firstTimeFlow(email: string): Promise<{ jar: Jar; tokens: { access_token: string; refresh_token: string } }> {
  const jar = new Jar()
  const start = await request(authorizeUrl({ prompt: 'consent' }), { jar })
  const interaction = start.response.headers.get('location')!
  const loginPage = await request(interaction, { jar })
  const login = await request(`${interaction}/login`, { ...form({ email, password: PASSWORD, csrf_token: csrf(loginPage.body) }), jar })
  if (login.response.status !== 303) throw new Error(`login failed: ${login.response.status}`)
  const consentPage = await request(interaction, { jar })
  const consent = await request(`${interaction}/consent`, {
    ...form({ items: ['email', 'phone', 'address'], decision: 'allow', csrf_token: csrf(consentPage.body) }),
    jar,
  })
  const tokens = await exchange(codeOf(consent.response))
  await userinfo(tokens.access_token)
  return { jar, tokens }
}

// ---------- primitives ----------

async function timeEach(count: number, work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < count; i++) await work()
  return ((performance.now() - t0) * 1000) / count
}

async function primitives() {
  const es = await generateKeyPair('ES256')
  const rs = await generateKeyPair('RS256')
  const payload = { iss: BASE, sub: 'U' + '0'.repeat(32), aud: '1234567890', exp: 2_000_000_000, iat: 1_700_000_000 }
  const es256 = await timeEach(2000, () => new SignJWT(payload).setProtectedHeader({ alg: 'ES256' }).sign(es.privateKey))
  const rs256 = await timeEach(300, () => new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(rs.privateKey))
  const argonHash = await hash('password', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 })
  const argon2 = await timeEach(10, () => verify(argonHash, 'password'))
  let select1 = NaN
  if (benchDbUrl) {
    const client = new pg.Client({ connectionString: benchDbUrl })
    await client.connect()
    await client.query('SELECT 1')
    select1 = await timeEach(1000, () => client.query('SELECT 1'))
    await client.end()
  }
  return { es256, rs256, argon2, select1 }
}

// ---------- the run ----------

const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${postgresVersion} (${serverUrl ? 'server' : 'embedded PGlite'})`
console.log(`plusid benchmark — ${machine}`)

// Every bench user logs in and consents once: sessions and grants for the returning-user flow.
const sessions: { jar: Jar; tokens: { access_token: string; refresh_token: string } }[] = []
for (const email of seeded.emails) sessions.push(await firstTimeFlow(email))

if (SOAK_SECONDS) {
  await soak(SOAK_SECONDS)
  await stopServer()
  process.exit(0)
}

const prims = await primitives()
const results: Result[] = []
const scenarios: [string, number, (worker: number) => Promise<void>][] = [
  [
    'returning-user flow (authorize → token → userinfo)',
    3,
    async (w) => {
      const { response } = await request(authorizeUrl(), { jar: sessions[w % USERS]!.jar })
      const tokens = await exchange(codeOf(response))
      await userinfo(tokens.access_token)
    },
  ],
  ['first-time flow (login + consent → token → userinfo)', 7, async (w) => void (await firstTimeFlow(seeded.emails[w % USERS]!))],
  [
    'refresh grant',
    1,
    async (w) => {
      const { response } = await request(
        '/oauth2/v2.1/token',
        form({
          grant_type: 'refresh_token',
          refresh_token: sessions[w % USERS]!.tokens.refresh_token,
          client_id: seeded.channelId,
          client_secret: seeded.secret,
        }),
      )
      if (response.status !== 200) throw new Error(`refresh: ${response.status}`)
    },
  ],
  ['userinfo', 1, async (w) => userinfo(sessions[w % USERS]!.tokens.access_token)],
  ['JWKS', 1, async () => void (await request('/oauth2/v2.1/certs'))],
  ['discovery', 1, async () => void (await request('/.well-known/openid-configuration'))],
]
for (const [name, requestsPerOp, op] of scenarios.filter(([name]) => !args.only || name.includes(args.only))) {
  await load(name, 4, 0.5, requestsPerOp, op) // warm up
  for (const concurrency of CONCURRENCY) {
    const result = await load(name, concurrency, SECONDS, requestsPerOp, op)
    results.push(result)
    console.log(`  ${name} c=${concurrency}: ${result.opsPerSecond.toFixed(0)} ops/s`)
  }
}

if (args.only) {
  await stopServer()
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      c: r.concurrency,
      opsPerSecond: Math.round(r.opsPerSecond),
      cpuMsPerOp: r.serverCpuMsPerOp.toFixed(3),
      queriesPerOp: r.queriesPerOp,
    })),
  )
  process.exit(0)
}

// The peer comparison flow: authorize → consent page → consent POST → code exchange → userinfo → refresh.
const peerFlow = await load('consent flow (authorize → consent page → consent → token → userinfo → refresh)', 16, SECONDS, 6, async (w) => {
  const jar = sessions[w % USERS]!.jar
  const start = await request(authorizeUrl({ prompt: 'consent' }), { jar })
  const interaction = start.response.headers.get('location')!
  const page = await request(interaction, { jar })
  const consent = await request(`${interaction}/consent`, {
    ...form({ items: ['email', 'phone', 'address'], decision: 'allow', csrf_token: csrf(page.body) }),
    jar,
  })
  const tokens = await exchange(codeOf(consent.response))
  await userinfo(tokens.access_token)
  await request(
    '/oauth2/v2.1/token',
    form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: seeded.channelId, client_secret: seeded.secret }),
  )
})
results.push(peerFlow)

// A login storm: 64 loops posting the login form while 4 loops call userinfo.
const quiet = await load('userinfo alone (c=4)', 4, SECONDS, 1, async (w) => userinfo(sessions[w]!.tokens.access_token))
let storming = true
const storm = Promise.all(
  Array.from({ length: 64 }, async (_, w) => {
    while (storming) {
      const jar = new Jar()
      const page = await request('/login', { jar })
      await request('/login', { ...form({ email: seeded.emails[w % USERS]!, password: PASSWORD, csrf_token: csrf(page.body) }), jar })
    }
  }),
)
await new Promise((resolve) => setTimeout(resolve, 500))
const stormed = await load('userinfo during 64 concurrent logins (c=4)', 4, SECONDS, 1, async (w) =>
  userinfo(sessions[w]!.tokens.access_token),
)
storming = false
await storm
results.push(quiet, stormed)

await stopServer()

// ---------- the peer: oidc-provider 9 through the same consent flow ----------

/**
 * oidc-provider's endpoints (its defaults), with the same users and the same flow as plusid's
 * consent flow: authorize with prompt=consent → consent page → consent → (its resume step) → code
 * exchange → userinfo → refresh, each user logged in once beforehand.
 */
async function runPeer(): Promise<Result | undefined> {
  if (!serverUrl) {
    console.log('--peer needs DATABASE_URL (oidc-provider has no embedded database): skipped')
    return undefined
  }
  const name = `plusid_bench_peer_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const peerPort = await freePort()
  const PEER = `http://127.0.0.1:${peerPort}`
  const client = { id: 'bench-client', secret: randomBytes(16).toString('hex') }
  const peer = spawn(process.execPath, ['bench/peer/server.js'], {
    env: {
      ...process.env,
      DATABASE_URL: url.toString(),
      PORT: String(peerPort),
      ISSUER: PEER,
      CLIENT_ID: client.id,
      CLIENT_SECRET: client.secret,
      CALLBACK,
      PEER_USERS: String(USERS),
      DEBUG: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    let output = ''
    peer.stdout!.on('data', (chunk) => (output += chunk))
    for (let waited = 0; !output.includes('peer is ready'); waited += 100) {
      if (waited > 60_000 || peer.exitCode !== null)
        throw new Error(`oidc-provider did not start (is it installed? npm install):\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`
    const tokenRequest = (fields: Record<string, string>) =>
      request(`${PEER}/token`, { ...form(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic } })
    /** Follows the redirects of an authorization, answering its login or consent page, to the code. */
    const authorize = async (jar: Jar, account: string, extra: Record<string, string> = {}): Promise<string> => {
      let next = `${PEER}/auth?${new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: CALLBACK, scope: 'openid profile email phone address', state: randomBytes(8).toString('hex'), nonce: 'n', ...extra })}`
      for (let step = 0; step < 10; step++) {
        const { response } = await request(next, { jar })
        const location = response.headers.get('location')
        if (!location) throw new Error(`peer: ${next} answered ${response.status} without a redirect`)
        if (location.startsWith(CALLBACK)) return new URL(location).searchParams.get('code')!
        const target = new URL(location, PEER).toString()
        if (/\/interaction\//.test(target)) {
          const page = await request(target, { jar })
          const action = /action="([^"]+)"/.exec(page.body)![1]!
          next = new URL(action, PEER).toString()
          const answered = await request(next, { ...form({ account }), jar })
          next = new URL(answered.response.headers.get('location')!, PEER).toString()
        } else {
          next = target
        }
      }
      throw new Error('peer: too many redirects')
    }
    const jars = Array.from({ length: USERS }, () => new Jar())
    for (let i = 0; i < USERS; i++) await authorize(jars[i]!, `user${i}`)
    const peerTarget: Target = { pid: () => peer.pid!, queries: async () => Number((await request(`${PEER}/__bench/queries`)).body) }
    const flow = async (w: number) => {
      const code = await authorize(jars[w % USERS]!, `user${w % USERS}`, { prompt: 'consent' })
      const exchanged = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK })
      if (exchanged.response.status !== 200) throw new Error(`peer token: ${exchanged.response.status} ${exchanged.body}`)
      const tokens = JSON.parse(exchanged.body) as { access_token: string; refresh_token: string }
      const info = await request(`${PEER}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      if (info.response.status !== 200) throw new Error(`peer userinfo: ${info.response.status}`)
      const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
      if (refreshed.response.status !== 200) throw new Error(`peer refresh: ${refreshed.response.status} ${refreshed.body}`)
    }
    await load('warm-up', 4, 0.5, 7, flow, peerTarget)
    const result = await load('oidc-provider 9: consent flow', 16, SECONDS, 7, flow, peerTarget)
    console.log(`  oidc-provider consent flow c=16: ${result.opsPerSecond.toFixed(0)} flows/s`)
    return result
  } finally {
    if (peer.exitCode === null) {
      peer.kill('SIGTERM')
      await once(peer, 'exit')
    }
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}
const peerResult = args.peer ? await runPeer() : undefined

// ---------- the report ----------

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–')
const lines = [
  `# plusid benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `Machine: ${machine}. Each row ran ${SECONDS} s after a warm-up; client and server on the same machine.`,
  '',
  `Primitives on this machine: ES256 signature ${f(prims.es256)} µs, RS256 signature ${f(prims.rs256)} µs, argon2id verify ${f(prims.argon2 / 1000)} ms, SELECT 1 round trip ${f(prims.select1)} µs.`,
  '',
  '| scenario | c | ops/s | p50 ms | p95 ms | p99 ms | requests/op | queries/op | server CPU ms/op | PostgreSQL CPU ms/op | p50 ÷ SELECT 1 | server CPU ÷ ES256 | peak RSS MB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.scenario} | ${r.concurrency} | ${f(r.opsPerSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p95, 2)} | ${f(r.p99, 2)} | ${r.requestsPerOp} | ${f(r.queriesPerOp, 2)} | ${f(r.serverCpuMsPerOp, 3)} | ${serverUrl ? f(r.postgresCpuMsPerOp, 3) : 'in server'} | ${f((r.p50 * 1000) / prims.select1, 0)} | ${f((r.serverCpuMsPerOp * 1000) / prims.es256, 1)} | ${r.peakRssMb} |`,
  ),
  '',
  `Login storm: userinfo p99 ${f(quiet.p99, 2)} ms alone, ${f(stormed.p99, 2)} ms during 64 concurrent logins.`,
  `Peer comparison (consent flow at c=16): ${f(peerFlow.queriesPerOp, 1)} queries, ${f(peerFlow.serverCpuMsPerOp, 2)} ms server CPU, ${serverUrl ? f(peerFlow.postgresCpuMsPerOp, 2) + ' ms PostgreSQL CPU' : 'PostgreSQL CPU inside the server'} per flow, ${f(peerFlow.opsPerSecond, 0)} flows/s.`,
  '',
  '## For the README',
  '',
  ...readmeTables(),
]

/** The tables of the README's Performance section, in its format, from this run. */
function readmeTables(): string[] {
  const pgCpu = (r: Result) => (serverUrl ? f(r.postgresCpuMsPerOp, 1) : 'in server')
  const rows = results.filter(
    (r) => r.concurrency === 16 && !r.scenario.startsWith('userinfo alone') && !r.scenario.startsWith('userinfo during'),
  )
  const tables = [
    '| scenario (c=16 unless noted) | ops/s | p50 ms | p99 ms | queries/op | server CPU ms/op | PostgreSQL CPU ms/op |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${f(r.opsPerSecond, 0)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.queriesPerOp, 0)} | ${f(r.serverCpuMsPerOp, 2)} | ${pgCpu(r)} |`,
    ),
    '',
  ]
  if (peerResult) {
    const cpu = (r: Result) => r.serverCpuMsPerOp + r.postgresCpuMsPerOp
    tables.push(
      'The same returning-user flow with consent each time, side by side (16 concurrent users, fresh databases):',
      '',
      '| | flows/s | server CPU ms/flow | PostgreSQL CPU ms/flow | statements/flow |',
      '|---|---:|---:|---:|---:|',
      `| oidc-provider 9 with a PostgreSQL adapter (bench/peer) | ${f(peerResult.opsPerSecond, 1)} | ${f(peerResult.serverCpuMsPerOp, 2)} | ${f(peerResult.postgresCpuMsPerOp, 2)} | ${f(peerResult.queriesPerOp, 0)} |`,
      `| plusid | ${f(peerFlow.opsPerSecond, 1)} (${f(peerFlow.opsPerSecond / peerResult.opsPerSecond, 1)}×) | ${f(peerFlow.serverCpuMsPerOp, 2)} | ${f(peerFlow.postgresCpuMsPerOp, 2)} | ${f(peerFlow.queriesPerOp, 0)} |`,
      '',
      `plusid's CPU per flow (server + PostgreSQL) is ${f(cpu(peerFlow) / cpu(peerResult), 2)}× the peer's (goal: ≥ 3× flows/s for ≤ 0.33× CPU).`,
      '',
    )
  }
  if (startups.length > 0) tables.push(...startupTable(startups))
  return tables
}
const report = lines.join('\n') + '\n'
console.log('\n' + report)
const file = path.join(
  'bench',
  'results',
  `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${serverUrl ? 'postgres' : 'pglite'}.md`,
)
fs.writeFileSync(file, report)
console.log(`written to ${file}`)

// ---------- soak ----------

async function soak(seconds: number) {
  console.log(`Soak: returning-user flow at c=16 for ${seconds} s (access and refresh tokens live 60 s, codes 10 s, cleanup every 10 s)`)
  const samples: string[] = [
    '| t (s) | flows/s | RSS MB | ' +
      ['access_tokens', 'refresh_tokens', 'authorization_codes', 'sessions', 'interactions'].join(' | ') +
      ' |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const end = performance.now() + seconds * 1000
  let flows = 0
  const loops = Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      while (performance.now() < end) {
        const { response } = await request(authorizeUrl(), { jar: sessions[w % USERS]!.jar })
        const tokens = await exchange(codeOf(response))
        await userinfo(tokens.access_token)
        flows++
      }
    }),
  )
  let last = 0
  for (let t = 10; t <= seconds; t += 10) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - seconds * 1000 + t * 1000 - performance.now())))
    const { rows } = await metrics()
    const line = `| ${t} | ${((flows - last) / 10).toFixed(0)} | ${memoryMb(server.pid!, 'VmRSS')} | ${['access_tokens', 'refresh_tokens', 'authorization_codes', 'sessions', 'interactions'].map((table) => rows[table] ?? '–').join(' | ')} |`
    last = flows
    samples.push(line)
    console.log(line)
  }
  await loops
  const report = `# plusid soak, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\nMachine: ${machine}.\n\n${samples.join('\n')}\n`
  const file = path.join(
    'bench',
    'results',
    `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-soak-${serverUrl ? 'postgres' : 'pglite'}.md`,
  )
  fs.writeFileSync(file, report)
  console.log(`written to ${file}`)
}
