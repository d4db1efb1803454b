module github.com/soidc/soidc/bindings/go

go 1.24
