class AddNameIndex < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def change
    add_column :users, :name, :string
    add_index :users, :name, algorithm: :concurrently
  end
end
