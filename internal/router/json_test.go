package router

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// encodingJSON is what appendJSON must write: encoding/json's output
// without HTML escaping and without the trailing newline.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"null", nil},
		{"string escapes", "a\"b\\c\b\f\n\r\t\x00\x1f\x7f <>&"},
		{"invalid utf-8", "ok\xff\xfe\xc3"},
		{"line separators", "a\u2028b\u2029c"},
		{"multibyte", "Bärbel 日本 🙂"},
		{"integers", []any{0.0, 1.0, -1.0, 123456789.0, 9007199254740993.0}},
		{"fractions", []any{0.5, -2.25, 1e-6, 1e-7, 123e-20, 1e20, 1e21, 1.5e300, math.Copysign(0, -1)}},
		{"bools", []any{true, false}},
		{"go ints", []any{int(7), int64(-8)}},
		{"empty containers", map[string]any{"a": []any{}, "b": map[string]any{}, "c": []string{}}},
		{"nil containers", map[string]any{"a": []any(nil), "b": map[string]any(nil), "c": []string(nil)}},
		{"sorted keys", map[string]any{"z": 1.0, "A": 2.0, "a": 3.0, "$ref": "x", "é": 4.0, "": 5.0}},
		{"many keys", func() map[string]any {
			m := map[string]any{}
			for _, k := range []string{"k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17", "k18", "k19", "k20", "k21", "k22", "k23", "k24", "k25", "k26", "k27", "k28", "k29", "k30", "k31", "k32", "k33", "k34", "k35"} {
				m[k] = k
			}
			return m
		}()},
		{"resource", scim.Resource{
			"schemas": []string{scim.UserSchema, scim.EnterpriseUserSchema},
			"id":      "2819c223", "userName": "bjensen@example.com",
			"name":                    map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
			"emails":                  []any{map[string]any{"value": "b@example.com", "primary": true}},
			"meta":                    map[string]any{"version": `W/"3"`},
			scim.EnterpriseUserSchema: map[string]any{"manager": map[string]any{"value": "x", "$ref": "../Users/x"}},
		}},
		{"nested resource", map[string]any{"r": scim.Resource{"a": 1.0}}},
		{"fallback types", map[string]any{"n": json.Number("12.50"), "u": uint8(3), "f32": float32(0.1), "s": struct{ A string }{"<&>"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendJSON(nil, tt.v)
			if err != nil {
				t.Fatalf("appendJSON: %v", err)
			}
			if want := encodingJSON(t, tt.v); !bytes.Equal(got, want) {
				t.Errorf("appendJSON = %s\nencoding/json = %s", got, want)
			}
		})
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), []any{map[string]any{"x": math.Inf(-1)}}, make(chan int)} {
		if _, err := appendJSON(nil, bad); err == nil {
			t.Errorf("appendJSON(%v) succeeded, want an error as encoding/json gives", bad)
		}
	}
}

// FuzzAppendJSON decodes arbitrary JSON as the router receives resources
// from the engine and checks appendJSON against encoding/json.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{
		`{"userName":"bjensen","emails":[{"value":"a@b","primary":true}],"n":1.5e-7,"z":null}`,
		`["\u2028\u0000\"\\", 1e21, -0, 123456789012345678901234567890]`,
		`"\ud800"`, `{"":{"":[[],{}]}}`, `0.000001`, `1E400`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatalf("appendJSON(%s): %v", in, err)
		}
		if want := encodingJSON(t, v); !bytes.Equal(got, want) {
			t.Fatalf("input %s\nappendJSON    = %s\nencoding/json = %s", in, got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	var v any
	if err := json.Unmarshal([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646",
		"userName":"bjensen@example.com","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"},
		"displayName":"Babs Jensen","active":true,"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
		"meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z","version":"W/\"3\""}}`), &v); err != nil {
		b.Fatal(err)
	}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf, _ = appendJSON(buf[:0], v)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			_ = enc.Encode(v)
		}
	})
}
