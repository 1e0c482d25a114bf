exports.up = async function (knex) {
  await knex.schema.createTable('posts', (table) => {
    table.bigIncrements('id');
    table.string('title').notNullable();
    table.index(['title']);
  });
  await knex.raw('ALTER TABLE posts ADD COLUMN body text');
};

exports.down = (knex) => knex.schema.dropTable('posts');
