package filter

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestSmoke(t *testing.T) {
	e, err := Parse(`userName eq "bjensen"`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Check(e, scim.UserType)
	if err != nil {
		t.Fatal(err)
	}
	if !Match(c, scim.Resource{"userName": "BJensen"}, scim.UserType) {
		t.Errorf("Match = false, want true")
	}
}
