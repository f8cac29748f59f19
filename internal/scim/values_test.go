package scim

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestCoerce(t *testing.T) {
	tests := []struct {
		name    string
		def     *Attribute
		in      any
		want    any
		wantErr bool
	}{
		{"string", attr("title", String), "Dr.", "Dr.", false},
		{"string refuses number", attr("title", String), 3.0, nil, true},
		{"boolean", attr("active", Boolean), true, true, false},
		{"entra string false", attr("active", Boolean), "False", false, false},
		{"boolean refuses other strings", attr("active", Boolean), "no", nil, true},
		{"integer from json.Number", attr("n", Integer), json.Number("42"), 42.0, false},
		{"integer refuses fraction", attr("n", Integer), 1.5, nil, true},
		{"decimal", attr("d", Decimal), 1.5, 1.5, false},
		{"dateTime", attr("t", DateTime), "2008-01-23T04:56:22Z", "2008-01-23T04:56:22Z", false},
		{"dateTime refuses a date", attr("t", DateTime), "2008-01-23", nil, true},
		{"binary refuses bad base64", attr("b", Binary), "###", nil, true},
		{"reference", attr("r", Reference), "https://example.com/x", "https://example.com/x", false},
		{"complex is never simple", complexAttr("name", nil), "x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.def.Coerce(tt.in, tt.def.Name)
			var se *Error
			if tt.wantErr {
				if !errors.As(err, &se) || se.ScimType != InvalidValue {
					t.Fatalf("Coerce(%v) error = %v, want 400 invalidValue", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Coerce(%v) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	emails := complexAttr("emails", []*Attribute{attr("value", String), attr("type", String)}, multi)
	tests := []struct {
		name string
		def  *Attribute
		x, y any
		want bool
	}{
		{"case-insensitive string", attr("userName", String), "BJensen", "bjensen", true},
		{"caseExact string", attr("id", String, caseExact), "A", "a", false},
		{"instants", attr("t", DateTime), "2008-01-23T04:56:22Z", "2008-01-23T05:56:22+01:00", true},
		{"numbers by value", attr("n", Integer), 3.0, json.Number("3"), true},
		{"unassigned alike", emails, nil, []any{}, true},
		{"unassigned differs from a value", attr("title", String), nil, "x", false},
		{"sets are unordered", emails,
			[]any{map[string]any{"value": "a"}, map[string]any{"value": "b"}},
			[]any{map[string]any{"value": "B"}, map[string]any{"value": "a"}}, true},
		{"sets compare sizes", emails,
			[]any{map[string]any{"value": "a"}},
			[]any{map[string]any{"value": "a"}, map[string]any{"value": "a"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.def.Equal(tt.x, tt.y); got != tt.want {
				t.Errorf("Equal(%v, %v) = %v, want %v", tt.x, tt.y, got, tt.want)
			}
		})
	}
}
