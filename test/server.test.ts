// `npm start` as a user runs it: a real process on a real port, the embedded database kept in
// DATA_DIR across restarts, graceful shutdown, and clear errors for bad configuration.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { once } from 'node:events'
import { test } from 'node:test'
import { createTestDatabase, onServer } from './helpers/database.ts'

const SERVER = ['--import', 'tsx', path.resolve('src/server.ts')]

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  return port
}

interface Running {
  child: ChildProcess
  base: string
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

async function startServer(env: Record<string, string>, command = SERVER): Promise<Running> {
  const port = await freePort()
  const child = spawn(process.execPath, command, {
    env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  // Generous: a first start on the embedded database runs initdb, and the machine may be busy.
  const deadline = Date.now() + 180_000
  while (!output.includes('plusid is ready at')) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const exited = once(child, 'exit')
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal)
      const [code] = await exited
      return code as number | null
    },
  }
}

/** Fetch with a cookie jar, as a browser posting the site's forms would. */
function browserFor(base: string) {
  const jar = new Map<string, string>()
  const request = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(base + url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const [name, value] = pair!.split('=') as [string, string]
      if (value === '') jar.delete(name)
      else jar.set(name, value)
    }
    return response
  }
  const submit = async (pageUrl: string, fields: Record<string, string>) => {
    const page = await (await request(pageUrl)).text()
    const token = /name="csrf_token" value="([^"]+)"/.exec(page)![1]!
    return request(pageUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, csrf_token: token }).toString(),
    })
  }
  return { request, submit, jar }
}

test('a bad configuration stops the start with one message naming each variable', () => {
  const result = spawnSync(process.execPath, SERVER, {
    env: { ...process.env, PORT: 'abc', LOG_LEVEL: 'loud', PUBLIC_URL: 'nope' },
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(result.status, 2)
  assert.match(result.stderr, /Invalid configuration:/)
  assert.match(result.stderr, /PORT must be a whole number/)
  assert.match(result.stderr, /LOG_LEVEL must be one of/)
  assert.match(result.stderr, /PUBLIC_URL must be an absolute/)
})

test('npm start on the embedded database: pages, readiness, data kept across a restart, the folder locked while running', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  let server: Running | undefined
  try {
    server = await startServer({ DATA_DIR: dataDir })
    assert.match(server.output(), /Creating the embedded database in .* \(first start/, 'a progress line while the database is created')
    assert.match(server.output(), /plusid is ready at http:\/\/localhost:\d+ \(embedded database in .*, started in [\d.]+ s\)/)
    assert.match(server.output(), /No administrator yet: create one with +npx plusid admin create --email/)
    // Not a terminal: every log line is one JSON object (here the generated master key's warning).
    const logLines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
    const warning = logLines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((entry) => /PLUSID_MASTER_KEY is not set: generated one/.test(entry.msg))
    assert.equal(warning?.level, 40, 'the master key warning is a JSON log line at level warn')
    assert.ok(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o600)
    assert.equal((await fetch(`${server.base}/readyz`)).status, 200)
    assert.equal((await fetch(`${server.base}/healthz`)).status, 200)

    const browser = browserFor(server.base)
    const registered = await browser.submit('/register', { email: 'restart@example.com', password: 'restart password', name: 'Restart' })
    assert.equal(registered.status, 303)

    // The embedded database belongs to the running server: the CLI says so instead of corrupting it.
    const cli = spawnSync(process.execPath, [path.resolve('bin/plusid.js'), 'migrate', '--json'], {
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(cli.status, 1)
    assert.match(JSON.parse(cli.stderr).message, /in use by process \d+/)

    assert.equal(await server.stop('SIGTERM'), 0, 'SIGTERM ends the process cleanly')
    assert.ok(!fs.existsSync(path.join(dataDir, 'plusid.pid')), 'the data folder is unlocked')

    // With an administrator, the ready message no longer asks for one.
    const admin = spawnSync(
      process.execPath,
      [path.resolve('bin/plusid.js'), 'admin', 'create', '--email', 'root@example.com', '--password', 'root password 123', '--json'],
      { env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir }, encoding: 'utf8', timeout: 60_000 },
    )
    assert.equal(admin.status, 0, admin.stderr)

    server = await startServer({ DATA_DIR: dataDir })
    assert.doesNotMatch(server.output(), /generated one/, 'the saved master key is reused')
    assert.match(server.output(), /Starting the embedded database in /)
    assert.doesNotMatch(server.output(), /No administrator yet/)
    const again = browserFor(server.base)
    const login = await again.submit('/login', { email: 'restart@example.com', password: 'restart password' })
    assert.equal(login.status, 303, 'the account survived the restart')
    assert.equal(login.headers.get('location'), '/account')
    assert.equal(await server.stop('SIGINT'), 0, 'SIGINT too')
  } finally {
    await server?.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('on SIGTERM a request in flight finishes before the process exits', async () => {
  const fresh = onServer ? await createTestDatabase() : undefined
  await fresh?.database.close()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  try {
    const server = await startServer({ DATA_DIR: dataDir, DATABASE_URL: fresh?.url ?? '' })
    const page = await fetch(`${server.base}/register`)
    const token = /name="csrf_token" value="([^"]+)"/.exec(await page.text())![1]!
    const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!
    const body = new URLSearchParams({
      email: 'inflight@example.com',
      password: 'in flight password',
      name: 'F',
      csrf_token: token,
    }).toString()
    // Send the headers and half the body, signal, then the rest: the request is in flight throughout.
    const url = new URL(`${server.base}/register`)
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: '/register',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), cookie },
    })
    const response = once(request, 'response')
    request.write(body.slice(0, 10))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const exit = server.stop('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(server.child.exitCode, null, 'still running while the request is open')
    request.end(body.slice(10))
    const [answer] = (await response) as [http.IncomingMessage]
    answer.resume()
    assert.equal(answer.statusCode, 303, 'the registration completed')
    assert.equal(await exit, 0)
  } finally {
    await fresh?.drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('a port in use is reported at once, before the database is opened or migrated', async (t) => {
  const busy = net.createServer().listen(0, '127.0.0.1')
  await once(busy, 'listening')
  t.after(() => busy.close())
  const { port } = busy.address() as net.AddressInfo
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  try {
    const result = spawnSync(process.execPath, SERVER, {
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(result.status, 1)
    assert.match(result.stderr, new RegExp(`plusid could not start: port ${port} on 127\\.0\\.0\\.1 is already in use`))
    assert.doesNotMatch(
      result.stdout + result.stderr,
      /embedded database|migrated|at .*\.ts:\d+/,
      'no database step ran, and no stack trace',
    )
    assert.deepEqual(fs.readdirSync(dataDir), [], 'nothing was created in the data folder: no database, no master key')
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('in a terminal the logs are readable lines, not JSON', {
  skip: fs.existsSync('/usr/bin/script') ? false : 'needs script(1) from util-linux to give the server a terminal',
}, async () => {
  const port = await freePort()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  const command = [process.execPath, ...SERVER].map((word) => `'${word}'`).join(' ')
  // script(1) runs the server on a pseudo-terminal, as a person's `npm start` would be.
  const child = spawn('/usr/bin/script', ['-qec', `exec ${command}`, '/dev/null'], {
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  try {
    const deadline = Date.now() + 180_000
    while (!output.includes('plusid is ready at') && Date.now() < deadline && child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 50))
    assert.match(output, /plusid is ready at/)
    assert.match(output, /WARN.*PLUSID_MASTER_KEY is not set/, 'the warning as a readable line')
    assert.match(output, /INFO.*database migrated/)
    assert.doesNotMatch(output, /^\{"level"/m, 'no JSON log lines')
  } finally {
    const exited = once(child, 'exit')
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM')
    await exited
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('npm start runs the compiled server: built by its prestart step, no TypeScript loader', async () => {
  const built = spawnSync(process.execPath, ['scripts/build.js'], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(built.status, 0, built.stderr)
  const again = spawnSync(process.execPath, ['scripts/build.js'], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(again.stdout, '', 'a second build with nothing changed does nothing')
  const fresh = onServer ? await createTestDatabase() : undefined
  await fresh?.database.close()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  let server: Running | undefined
  try {
    server = await startServer({ DATA_DIR: dataDir, DATABASE_URL: fresh?.url ?? '' }, [path.resolve('dist/server.js')])
    // Pages (templates and the stylesheet are found from dist/ too), and the migrations ran.
    const page = await fetch(`${server.base}/register`)
    assert.equal(page.status, 200)
    const stylesheet = /href="(\/static\/plusid\.[0-9a-f]+\.css)"/.exec(await page.text())?.[1]
    assert.ok(stylesheet)
    assert.equal((await fetch(server.base + stylesheet)).status, 200)
    assert.equal((await fetch(`${server.base}/oauth2/v2.1/certs`)).status, 200)
    assert.equal(await server.stop(), 0)
  } finally {
    await server?.stop()
    await fresh?.drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('servers started together on one new data folder: one creates the database and serves, the others are refused', async () => {
  // The folder's lock is taken before the first start's initdb (a child process): without it, every
  // process would run initdb into the same files.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-data-'))
  const starts = await Promise.all(
    Array.from({ length: 3 }, async () => {
      const port = await freePort()
      const child = spawn(process.execPath, SERVER, {
        env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout!.on('data', (chunk) => (output += chunk))
      child.stderr!.on('data', (chunk) => (output += chunk))
      const exited = once(child, 'exit')
      const deadline = Date.now() + 180_000
      while (!output.includes('plusid is ready at') && child.exitCode === null && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50))
      return { child, exited, output: () => output, port }
    }),
  )
  try {
    const ready = starts.filter((start) => start.output().includes('plusid is ready at'))
    assert.equal(ready.length, 1, `exactly one server is ready:\n${starts.map((start) => start.output()).join('\n---\n')}`)
    for (const start of starts.filter((start) => start !== ready[0])) {
      await start.exited
      assert.equal(start.child.exitCode, 1)
      assert.match(start.output(), /The data folder .* is in use by process \d+/)
    }
    assert.equal((await fetch(`http://127.0.0.1:${ready[0]!.port}/readyz`)).status, 200)
  } finally {
    for (const start of starts) if (start.child.exitCode === null) start.child.kill('SIGTERM')
    await Promise.all(starts.map((start) => start.exited))
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})
