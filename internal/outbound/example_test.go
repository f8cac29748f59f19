package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// An adapter's HTTP boundary: one Client per target, a vendor answer mapped
// to a *scim.Error, and an unknown outcome resolved by a lookup.
func ExampleClient_Do() {
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer vendor.Close()

	c, err := outbound.New(vendor.URL+"/scim/v2", outbound.StaticToken("token"),
		outbound.WithHTTPClient(vendor.Client()), outbound.WithTimeout(10*time.Second))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, outbound.Request{Method: http.MethodPost, Path: "/Users", Body: []byte(`{"userName":"bjensen"}`),
		Op: "example.CreateUser"})
	switch {
	case errors.Is(err, outbound.ErrOutcomeUnknown):
		fmt.Println("look the user up by userName before sending again")
	case err != nil:
		fmt.Println("pass on:", err)
	case resp.Status == http.StatusTooManyRequests:
		// The vendor asks for 120s, more than the caller's 5s: answered at once.
		se := &scim.Error{Status: resp.Status, RetryAfter: outbound.RetryAfterSeconds(resp.Header, time.Now()),
			Detail: "the vendor's rate limit is reached"}
		fmt.Println(se.Status, se.RetryAfter, resp.Attempts)
	}
	// Output: 429 120 1
}
