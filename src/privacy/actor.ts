// Who acts on their own data, and from where (for the audit entry).
export interface Self {
  userId: string
  ip: string
}
