// `npm run db:types`: applies migrations/ to a fresh in-memory PostgreSQL (PGlite, so no server is
// needed) and writes Kysely's table types to src/storage/schema.generated.ts with kysely-codegen.
// The output depends on the migrations alone, so CI regenerates it and fails on any difference.
//
// Two things kysely-codegen does not see on its own are added here, both read from the database:
// a text column limited by `CHECK (column IN (...))` gets the union of its values, and the drivers'
// real read types are named (timestamptz is a Date; bytea a Uint8Array, which PGlite returns and
// pg's Buffer extends).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { GenericExpressionNode, generate, LiteralNode, PostgresDialect, UnionExpressionNode, type ExpressionNode } from 'kysely-codegen'
import { openDatabase } from '../src/storage/database.ts'
import { migrate } from '../src/storage/migrate.ts'

const OUT_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/storage/schema.generated.ts')

const database = await openDatabase({})
try {
  await migrate(database)
  const columns = await checkedValueUnions(database.db)
  await generate({
    // kysely-codegen is CommonJS and sees kysely's CommonJS typings: the same class, another declaration.
    db: database.db as never,
    dialect: new PostgresDialect(),
    outFile: OUT_FILE,
    typeMapping: { timestamptz: 'Date', bytea: 'Uint8Array' },
    overrides: { columns },
    typeOnlyImports: true,
  })
} finally {
  await database.close()
}

/**
 * `'table.column' → 'a' | 'b'` for every single-column CHECK that PostgreSQL stores as
 * `column = ANY (ARRAY['a'::text, 'b'::text])`, which is how it keeps `column IN ('a', 'b')`.
 * Given as type nodes, not text: kysely-codegen parses text with the TypeScript compiler's API,
 * which the native TypeScript 7 this project uses does not have.
 */
async function checkedValueUnions(db: Awaited<ReturnType<typeof openDatabase>>['db']): Promise<Record<string, ExpressionNode>> {
  const { rows } = await sql<{ table_name: string; definition: string; has_default: boolean; nullable: boolean }>`
    SELECT c.conrelid::regclass::text AS table_name, pg_get_constraintdef(c.oid) AS definition,
           a.atthasdef AS has_default, NOT a.attnotnull AS nullable
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'c' AND n.nspname = 'public' AND cardinality(c.conkey) = 1
    ORDER BY 1, 2`.execute(db)
  const unions: Record<string, ExpressionNode> = {}
  for (const { table_name, definition, has_default, nullable } of rows) {
    const match = /^CHECK \(\((\w+) = ANY \(\(?ARRAY\[(.+)\]\)?(?:::text\[\])?\)\)\)$/.exec(definition)
    // kysely-codegen adds `| null` outside an override; inside Generated<> it would be wrong.
    if (!match || (has_default && nullable)) continue
    const [, column, list] = match as unknown as [string, string, string]
    const values = [...list.matchAll(/'((?:[^']|'')*)'::text/g)].map((value) => value[1]!.replaceAll("''", "'"))
    const union = new UnionExpressionNode(values.map((value) => new LiteralNode(value)))
    unions[`${table_name}.${column}`] = has_default ? new GenericExpressionNode('Generated', [union]) : union
  }
  return unions
}
