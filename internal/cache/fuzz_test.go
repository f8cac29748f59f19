package cache

import (
	"encoding/json"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// FuzzAnalyzePatch: whatever operations a client sends, reading them for
// their effects never panics, and names members only when it calls them
// complete.
func FuzzAnalyzePatch(f *testing.F) {
	for _, seed := range []string{
		`[{"op":"add","path":"members","value":[{"value":"u1"}]}]`,
		`[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
		`[{"op":"remove","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]`,
		`[{"op":"replace","value":{"displayName":"x","members":[{"value":"u"}]}}]`,
		`[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName","value":"x"}]`,
		`[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m"}}}}]`,
		`[{"op":"remove","path":"members[value eq 1]"}]`,
		`[{"op":"add","path":"members[","value":7}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 4096 {
			return
		}
		var ops []scim.PatchOp
		if json.Unmarshal([]byte(in), &ops) != nil {
			return
		}
		for _, rt := range []*scim.ResourceType{scim.UserType, scim.GroupType} {
			p := analyzePatch(rt, ops)
			if !p.complete && len(p.members) > 0 {
				t.Fatalf("analyzePatch(%s, %s) = %+v: members without complete", rt.ID, in, p)
			}
			if rt == scim.UserType && len(p.members) > 0 {
				t.Fatalf("analyzePatch(User, %s) named members %v", in, p.members)
			}
		}
	})
}

// FuzzDecodeSlot: whatever a store holds under a key (another version's
// format, a truncated value), reading it never panics, and only a value
// of the current generation is an entry.
func FuzzDecodeSlot(f *testing.F) {
	f.Add([]byte("g1\n{\"id\":\"x\"}"), "g1")
	f.Add([]byte("~abc"), "g1")
	f.Add([]byte("g1"), "g1")
	f.Add([]byte("g0\n{}"), "g1")
	f.Add([]byte("g1\nnull"), "g1")
	f.Fuzz(func(t *testing.T, b []byte, gen string) {
		if gen == "" || len(b) > 1<<16 {
			return
		}
		s := decodeSlot(b, gen)
		if s.ok && string(b[:len(gen)+1]) != gen+"\n" {
			t.Fatalf("decodeSlot(%q, %q) took an entry of another generation", b, gen)
		}
		if s.ok && s.mark != "" {
			t.Fatalf("decodeSlot(%q, %q) is both an entry and a mark", b, gen)
		}
		_, _ = decodeResource(s)
	})
}
