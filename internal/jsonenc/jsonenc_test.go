package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is encoding/json's quoting of s.
func reference(s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var samples = []string{"", "plain", `a"b\c`, "<>&", "\u2028\u2029", "\x00\x1f\x7f", "x\xffy", "Zoë", "\xed\xa0\x80", "tab\there\nnl"}

func TestAppendString(t *testing.T) {
	for _, s := range samples {
		for _, html := range []bool{false, true} {
			if got, want := AppendString(nil, s, html), reference(s, html); !bytes.Equal(got, want) {
				t.Errorf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range samples {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := AppendString([]byte("x"), s, html), append([]byte("x"), reference(s, html)...); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want)
		}
	})
}
