module github.com/soidc/soidc/examples/go

go 1.24

require github.com/soidc/soidc/bindings/go v0.0.0-00010101000000-000000000000

replace github.com/soidc/soidc/bindings/go => ../../bindings/go
