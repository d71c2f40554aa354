"""One module per silver entity: how its bronze rows are typed, checked and resolved."""
