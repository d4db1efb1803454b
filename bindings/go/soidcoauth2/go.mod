module github.com/soidc/soidc/bindings/go/soidcoauth2

go 1.26.0

require github.com/soidc/soidc/bindings/go v0.0.0-00010101000000-000000000000

require golang.org/x/oauth2 v0.38.0

replace github.com/soidc/soidc/bindings/go => ../
