module github.com/scim-gateway/scim-gateway

go 1.26

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/scim2/filter-parser/v2 v2.3.1
	go.yaml.in/yaml/v3 v3.0.6
)

require github.com/q-uint/parser v0.3.1 // indirect
