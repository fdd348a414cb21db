// The shop's members, kept as simply as a demo can: an array in memory, written whole to a JSON
// file after each change (write to a temporary file, then rename, so a crash never leaves half a
// file). Without a file the members live in memory only (tests).
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export interface MemberFields {
  family_name: string
  given_name: string
  family_name_kana: string
  given_name_kana: string
  gender: string
  birthdate: string
  phone: string
  email: string
  postal_code: string
  prefecture: string
  city: string
  street: string
}

export interface Member extends MemberFields {
  id: string
  /** The plusid `sub` this member is linked to; null when registered without plusid. */
  sub: string | null
  createdAt: string
}

export class MemberStore {
  private readonly members: Member[]

  constructor(private readonly file: string | null) {
    this.members = file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Member[]) : []
  }

  findById(id: string): Member | undefined {
    return this.members.find((member) => member.id === id)
  }

  findBySub(sub: string): Member | undefined {
    return this.members.find((member) => member.sub === sub)
  }

  all(): readonly Member[] {
    return this.members
  }

  add(sub: string | null, fields: MemberFields): Member {
    const member: Member = { id: randomUUID(), sub, ...fields, createdAt: new Date().toISOString() }
    this.members.push(member)
    this.save()
    return member
  }

  private save(): void {
    if (!this.file) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const temporary = `${this.file}.${process.pid}.tmp`
    fs.writeFileSync(temporary, JSON.stringify(this.members, null, 2) + '\n', { mode: 0o600 })
    fs.renameSync(temporary, this.file)
  }
}
