package upstream

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
)

// TestConformance runs the suite with the capabilities discovered from the
// upstream: every filter, sort, PATCH and ETag run upstream.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) adapters.Adapter {
		return newUpstream(t, nil).adapter(t)
	})
}

// TestConformanceDeclaredNone runs the suite against an upstream whose
// store does nothing natively, with a settings block that declares no
// pushdown and a small page: the gateway emulates everything, and every
// list goes through many upstream pages. It is built from Config, as the
// gateway builds it.
func TestConformanceDeclaredNone(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	adaptertest.Run(t, func(t *testing.T) adapters.Adapter {
		u := newUpstream(t, nil, memory.WithoutNative())
		c := &Config{
			BaseURL:   u.base,
			TokenFile: tokenFile,
			Capabilities: &CapabilitiesConfig{
				Filter: "none", MaxPageSize: 7, ResourceTypes: []string{"User", "Group"},
			},
		}
		a, err := c.Open(t.Context())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return a
	})
}
