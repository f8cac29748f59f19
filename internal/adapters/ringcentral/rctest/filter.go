package rctest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// filter is a parsed RingCentral filter: every user (any), or the user
// whose userName (the same as the work email) equals value.
type filter struct {
	any   bool
	attr  string // as written
	value string
}

// errFilter is RingCentral's answer to every filter it does not support
// (VENDORS.md 2.5, RC-ISSUE38), byte for byte.
func errFilter() *apiError {
	return scimErr(http.StatusBadRequest, scim.InvalidFilter, FilterErrorDetail)
}

// parseFilter parses the only filters RingCentral supports (VENDORS.md
// 2.5): `userName eq "x"` and `emails eq "x"`, with `email eq "x"` (shown
// by RingCentral's developer relations) and, when emailsValue is set,
// `emails.value eq "x"`. Attribute and operator names are matched without
// case; the value must be a double-quoted JSON string; nothing may follow
// it. An empty filter selects every user. Anything else is the 400
// invalidFilter of errFilter.
func parseFilter(in string, emailsValue bool) (filter, error) {
	s := strings.Trim(in, " ")
	if s == "" {
		return filter{any: true}, nil
	}
	attr, rest, ok := strings.Cut(s, " ")
	if !ok {
		return filter{}, errFilter()
	}
	switch strings.ToLower(attr) {
	case "username", "emails", "email":
	case "emails.value":
		if !emailsValue {
			return filter{}, errFilter()
		}
	default:
		return filter{}, errFilter()
	}
	op, rest, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return filter{}, errFilter()
	}
	rest = strings.TrimLeft(rest, " ")
	end := quotedEnd(rest)
	if end < 0 || strings.Trim(rest[end:], " ") != "" {
		return filter{}, errFilter()
	}
	var value string
	if err := json.Unmarshal([]byte(rest[:end]), &value); err != nil {
		return filter{}, errFilter()
	}
	return filter{attr: attr, value: value}, nil
}

// quotedEnd returns the index just past the JSON string that s starts
// with, or -1 when s does not start with a complete one.
func quotedEnd(s string) int {
	if !strings.HasPrefix(s, `"`) {
		return -1
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
