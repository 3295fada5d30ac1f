/**
 * A PostgreSQL database of its own for one test file or benchmark run, dropped afterwards. A database (rather than a
 * schema next to others) keeps the store's migrations from seeing another run's migration tables.
 * @module
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export interface TempDatabase {
  url: string
  drop(): Promise<void>
}

export async function createTempDatabase(baseUrl: string, prefix = 'iops_tmp'): Promise<TempDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 })
      await c.connect()
      try {
        await c.query(`drop database if exists ${name} with (force)`)
      } finally {
        await c.end()
      }
    },
  }
}
