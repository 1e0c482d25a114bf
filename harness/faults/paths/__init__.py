"""One module per connection path the fault suite injects faults on."""
