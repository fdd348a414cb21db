// HTML views: eta templates with escaping on (`<%= %>` escapes, `<%~ %>` is only used for
// already-rendered HTML). Templates are compiled on first use and cached for the process.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'

const HERE = path.dirname(fileURLToPath(import.meta.url))

const eta = new Eta({ views: path.join(HERE, 'pages'), cache: true, autoEscape: true })

const css = fs.readFileSync(path.join(HERE, 'static', 'plusid.css'))

/** The stylesheet's URL carries a hash of its content, so it can be cached for a year. */
export const stylesheet = Object.freeze({
  body: css,
  url: `/static/plusid.${createHash('sha256').update(css).digest('hex').slice(0, 12)}.css`,
})

const formPostScript = fs.readFileSync(path.join(HERE, 'static', 'form-post.js'))

/** The only script: it submits the form_post page's form (the page has a button without it). */
export const scripts = Object.freeze({
  formPost: { body: formPostScript, url: `/static/form-post.${createHash('sha256').update(formPostScript).digest('hex').slice(0, 12)}.js` },
})

export interface LayoutData {
  title: string
  csrfToken: string
  user: { displayName: string } | null
}

export function renderPage(name: string, data: LayoutData & Record<string, unknown>): string {
  return eta.render(`./${name}`, { ...data, stylesheetUrl: stylesheet.url, formPostScriptUrl: scripts.formPost.url })
}
