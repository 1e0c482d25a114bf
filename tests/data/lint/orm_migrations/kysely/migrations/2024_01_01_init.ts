import { Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createType('mood').asEnum(['happy', 'sad']).execute()
  await db.schema
    .createTable('person')
    .addColumn('id', 'bigint', (col) => col.primaryKey())
    .addColumn('first_name', 'text')
    .execute()
  await db.schema.createIndex('person_first_name_index').on('person').column('first_name').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('person').execute()
}
