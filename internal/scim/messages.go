package scim

// PatchOp is one normalized PATCH operation (RFC 7644 §3.5.2): Op is "add",
// "replace" or "remove" in lower case; Path is the raw path expression, empty
// when the operation has none; Value is the decoded JSON value.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// BulkOperation is one operation of a Bulk request or response (RFC 7644 §3.7).
type BulkOperation struct {
	Method   string `json:"method"`
	BulkID   string `json:"bulkId,omitempty"`
	Version  string `json:"version,omitempty"`
	Path     string `json:"path,omitempty"`
	Data     any    `json:"data,omitempty"`
	Location string `json:"location,omitempty"`
	Response any    `json:"response,omitempty"`
	Status   string `json:"status,omitempty"`
}

// BulkRequest is a decoded Bulk request body (RFC 7644 §3.7).
type BulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors int             `json:"failOnErrors,omitempty"`
	Operations   []BulkOperation `json:"Operations"`
}

// BulkResponse is a Bulk response body (RFC 7644 §3.7).
type BulkResponse struct {
	Schemas    []string        `json:"schemas"`
	Operations []BulkOperation `json:"Operations"`
}

// ListResponse is a query response body (RFC 7644 §3.4.2).
type ListResponse struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []Resource `json:"Resources"`
}
