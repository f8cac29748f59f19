// Package api holds the OpenAPI 3.1 description of the gateway's HTTP API,
// openapi.yaml, embedded in the binary. The package's tests drive the real
// router over HTTP and validate every request and response against the
// document, and check that every route the router registers is described,
// so that the document cannot drift from the code.
package api

import (
	"bytes"
	_ "embed" // for the document
)

//go:embed openapi.yaml
var document []byte

// OpenAPI returns the OpenAPI 3.1 document, in YAML, that describes the
// gateway's HTTP API. Each call returns a fresh copy the caller may modify.
func OpenAPI() []byte {
	return bytes.Clone(document)
}
