class CreateUsers < ActiveRecord::Migration[7.1]
  def change
    create_table :users do |t|
      t.string :email, null: false
      t.timestamps
    end
    add_index :users, :email, unique: true
    execute <<~SQL
      ALTER TABLE users ADD CONSTRAINT email_lower CHECK (email = lower(email)) NOT VALID;
    SQL
  end
end
