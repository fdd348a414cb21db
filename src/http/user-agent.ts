// A User-Agent string as a person recognises their device: "Chrome on Android". A few ordered
// regexes are enough for the sessions page (which browser is which); a parser library would add
// a large, often-updated table for no gain here. The full string stays available on the page.

import type { Translate } from '../i18n/index.ts'

// Order matters: Edge and Opera say "Chrome", Chrome says "Safari", Android says "Linux",
// iPhones say "like Mac OS X".
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|CriOS|HeadlessChrome|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+ (Mobile\/\w+ )?Safari\//, 'Safari'],
]

const SYSTEMS: [RegExp, string][] = [
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPod\b/, 'iOS'],
  [/\biPad\b/, 'iPadOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]

export interface DeviceSummary {
  browser: string | null
  system: string | null
}

export function summarizeUserAgent(userAgent: string): DeviceSummary {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null
  return { browser, system }
}

/** The summary in the page's language: "Chrome on Android" / "Android の Chrome". */
export function describeDevice(t: Translate, userAgent: string | null): string {
  const { browser, system } = userAgent ? summarizeUserAgent(userAgent) : { browser: null, system: null }
  if (browser && system) return t('sessions.browserOn', { browser, system })
  return browser ?? system ?? t('common.unknown')
}
