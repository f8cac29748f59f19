package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// contentType is the media type of every SCIM response (RFC 7644 §3.1).
const contentType = "application/scim+json"

// writeJSON writes v, a document or error struct, as the response body with
// the given status, encoded by encoding/json. v is encoded before anything
// is written, so a value that cannot be encoded is still a clean 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(errorBody{Schemas: []string{scim.ErrorSchema}, Status: "500", Detail: "internal error"})
	}
	writeBody(w, status, buf.Bytes())
}

// writeBody writes a JSON body that is already encoded.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bodyPool recycles the buffers resources are encoded into; buffers that
// grew past maxPooledBody are left to the collector.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooledBody = 64 << 10

// writeEncoded encodes a body with appendTo into a pooled buffer and writes
// it; an encoding failure is returned before anything is written.
func writeEncoded(w http.ResponseWriter, status int, appendTo func([]byte) ([]byte, error)) error {
	bp := bodyPool.Get().(*[]byte)
	b, err := appendTo((*bp)[:0])
	if err == nil {
		writeBody(w, status, append(b, '\n'))
	}
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		bodyPool.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("router: encode response: %w", err)
	}
	return nil
}

// checkContentType accepts a request body declared as application/scim+json
// or application/json (RFC 7644 §3.8: servers MUST accept the first and
// SHOULD accept the second), in UTF-8, or with no Content-Type at all, as
// several IdPs send none; anything else is a 415.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && (mt == contentType || mt == "application/json") {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") {
			return nil
		}
	}
	return scim.Errorf(http.StatusUnsupportedMediaType, "",
		"Content-Type %q is not supported: send application/scim+json or application/json (UTF-8)", ct)
}

// readBody checks the content type and reads the body, which limitBody has
// capped.
func readBody(r *http.Request) ([]byte, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge(r, tooLarge.Limit)
	case err != nil:
		return nil, &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidSyntax,
			Detail: "the request body could not be read", Err: err}
	case len(bytes.TrimSpace(body)) == 0:
		return nil, scim.BadRequest(scim.InvalidSyntax, "the request body is empty: a JSON object is required")
	}
	return body, nil
}

// decodeJSON decodes one JSON value from body into v: malformed JSON or
// trailing data is a 400 invalidSyntax, a value of the wrong JSON type a 400
// invalidValue.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return scim.BadRequest(scim.InvalidSyntax, "the request body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) *scim.Error {
	var se *scim.Error
	if errors.As(err, &se) {
		return se // from an UnmarshalJSON method of ours
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		where := typeErr.Field
		if where == "" {
			where = "the request body"
		}
		return &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidValue,
			Detail: "JSON " + typeErr.Value + " is not valid for " + where, Err: err}
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidSyntax,
			Detail: "malformed JSON at offset " + strconv.FormatInt(syntaxErr.Offset, 10) + ": " + syntaxErr.Error(), Err: err}
	}
	return &scim.Error{Status: http.StatusBadRequest, ScimType: scim.InvalidSyntax,
		Detail: "malformed JSON: " + err.Error(), Err: err}
}

// decodeResource decodes a resource body, which must be a JSON object.
func decodeResource(body []byte) (scim.Resource, error) {
	var v any
	if err := decodeJSON(body, &v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "the request body must be a JSON object")
	}
	return scim.Resource(obj), nil
}

// stringList is a list of attribute names in a SearchRequest: RFC 7644
// §3.4.3 makes it a JSON array of strings; a comma-separated string, as in
// the query form, is accepted too.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = splitList(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return scim.BadRequest(scim.InvalidValue, "attributes and excludedAttributes must be arrays of strings")
	}
	*l = nil
	for _, s := range a {
		*l = append(*l, splitList(s)...)
	}
	return nil
}

// splitList splits a comma-separated list of attribute names, dropping
// blanks (RFC 7644 §3.9).
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
