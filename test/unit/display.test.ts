// How stored values are shown: phone numbers as people write them (E.164 stays in tokens) and
// User-Agent strings as a short "browser on system".
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatPhone } from '../../src/i18n/format.ts'
import { describeDevice, summarizeUserAgent } from '../../src/http/user-agent.ts'
import { translator } from '../../src/i18n/index.ts'

test('phone numbers: Japanese ones in the national format, others internationally', () => {
  assert.equal(formatPhone('+819012345678'), '090-1234-5678')
  assert.equal(formatPhone('+81312345678'), '03-1234-5678')
  assert.equal(formatPhone('+81120123456'), '0120-123-456')
  assert.equal(formatPhone('+16502530000'), '+1 650 253 0000')
  assert.equal(formatPhone('not a number'), 'not a number', 'anything unparsable is shown as stored')
})

const AGENTS: [string, string, string][] = [
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Chrome',
    'Android',
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Safari',
    'iOS',
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    'Chrome',
    'iOS',
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Safari',
    'iPadOS',
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'Safari',
    'macOS',
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
    'Edge',
    'Windows',
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', 'Firefox', 'Windows'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0', 'Opera', 'Linux'],
  [
    'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
    'Samsung Internet',
    'Android',
  ],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'Chrome', 'ChromeOS'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'Chrome', 'Linux'],
]

test('User-Agent strings: browser and system by a few ordered patterns', () => {
  for (const [agent, browser, system] of AGENTS) assert.deepEqual(summarizeUserAgent(agent), { browser, system }, agent)
  assert.deepEqual(summarizeUserAgent('curl/8.5.0'), { browser: null, system: null })
})

test('the device summary reads naturally in each language', () => {
  const agent = AGENTS[0]![0]
  assert.equal(describeDevice(translator('en'), agent), 'Chrome on Android')
  assert.equal(describeDevice(translator('ja'), agent), 'Android の Chrome')
  assert.equal(describeDevice(translator('en'), 'curl/8.5.0'), 'unknown')
  assert.equal(describeDevice(translator('en'), null), 'unknown')
})
