package adapters

import (
	"context"
	"errors"
	"fmt"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// CreateOnce runs a create through post and never applies it twice. When
// post was sent but its answer was lost (outbound.ErrOutcomeUnknown: a
// timeout after sending, a dropped connection, a proxy's 502 or 504), the
// vendor may have created the resource, so find looks it up (by userName,
// displayName, externalId: the adapter knows what identifies it) and the
// resource found is the answer. Only when find shows it is absent (nil,
// nil) is post sent once more; a 409 then means the first one did land
// after all (a vendor's search may lag behind its writes), and find is
// asked again. When find fails, the outcome stays unknown and its 502/504
// is returned: a caller that retries gets a 409, not a duplicate.
func CreateOnce(ctx context.Context, post, find func(context.Context) (scim.Resource, error)) (scim.Resource, error) {
	for sent := 1; ; sent++ {
		res, err := post(ctx)
		switch {
		case err == nil:
			return res, nil
		case sent == 2 && errors.Is(err, scim.ErrConflict):
			if found, ferr := find(ctx); ferr == nil && found != nil {
				return found, nil
			}
			return nil, err
		case !errors.Is(err, outbound.ErrOutcomeUnknown):
			return nil, err
		}
		found, ferr := find(ctx)
		switch {
		case ferr != nil:
			return nil, fmt.Errorf("%w (the lookup after it failed too: %v)", err, ferr)
		case found != nil:
			return found, nil
		case sent == 2:
			return nil, err
		}
	}
}
