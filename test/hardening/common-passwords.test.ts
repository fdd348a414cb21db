// Issue 13 item 9, README, Security (Passwords): the most common passwords are refused besides the
// length rule — at registration, at a password change and in the command line — with a message
// in the user's language; nothing is saved.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { runCli } from '../../src/cli/main.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { isCommonPassword } from '../../src/auth/password-policy.ts'

const database = await testDatabase()
const db = database.db
const COMMON = ['password', '12345678', 'Password', 'qwertyuiop', 'iloveyou', 'sunshine', 'football', '123456789', 'PASSWORD1']

const userExists = async (email: string) =>
  (await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).executeTakeFirst()) !== undefined

test('the list is the shipped one, of at least 10,000 passwords, checked case-insensitively', () => {
  for (const password of COMMON) assert.ok(isCommonPassword(password), password)
  for (const password of ['correct horse battery', 'a long password', '山田花子のパスワード'])
    assert.ok(!isCommonPassword(password), password)
})

test('registration refuses a common password, in English and in Japanese, and creates nobody', async (t) => {
  const app = await build(t)
  for (const password of COMMON) {
    const browser = new Browser(app)
    const email = uniqueEmail()
    const response = await browser.submit('/register', '/register', { email, password, name: 'Hanako' })
    assert.equal(response.statusCode, 400, password)
    assert.match(response.body, /is one of the most common passwords/)
    assert.equal(await userExists(email), false)
  }
  const japanese = new Browser(app, { 'accept-language': 'ja' })
  const response = await japanese.submit('/register', '/register', { email: uniqueEmail(), password: '12345678', name: 'Hanako' })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /よく使われるパスワード/)
})

test('a password change refuses a common password and keeps the old one', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const account = await registerUser(browser)
  const response = await browser.submit('/account/password', '/account/password', {
    current_password: account.password,
    new_password: 'password1',
    new_password_again: 'password1',
  })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /is one of the most common passwords/)
  const login = await new Browser(app).submit('/login', '/login', { email: account.email, password: account.password })
  assert.equal(login.statusCode, 303, 'the old password still works')
})

test('the command line refuses a common password (user create, admin create) with exit code 2', async () => {
  for (const command of [
    ['user', 'create', '--name', 'N'],
    ['admin', 'create'],
  ]) {
    const email = uniqueEmail('cli')
    let stderr = ''
    const code = await runCli(
      [...command, '--email', email, '--password', 'qwerty123', '--json'],
      { stdout: () => {}, stderr: (s) => void (stderr += s), env: {} },
      { database, masterKey: TEST_MASTER_KEY },
    )
    assert.equal(code, 2, `${command.join(' ')}: ${stderr}`)
    assert.match(stderr, /common password/)
    assert.equal(await userExists(email), false)
  }
})
