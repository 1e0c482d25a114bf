exports.config = { transaction: false };
exports.up = async (knex) => {
  await knex.schema.alterTable('posts', (t) => t.text('summary'));
  await knex.raw('CREATE INDEX ASYNC posts_summary ON posts (summary)');
};
exports.down = async () => {};
