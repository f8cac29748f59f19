// Package auth authenticates callers (static bearer tokens and JWTs) and says
// which targets each may reach.
package auth

import "context"

// Principal is an authenticated caller.
type Principal struct {
	Subject       string   // credential name or JWT subject, for logs
	Targets       []string // targets it may reach; "*" means every target
	DefaultTarget string   // the target behind /scim/v2; may be empty
}

// MayReach reports whether p may call target.
func (p *Principal) MayReach(target string) bool {
	for _, t := range p.Targets {
		if t == "*" || t == target {
			return true
		}
	}
	return false
}

// Authenticator checks a bearer token. Implementations are safe for concurrent
// use. A failure is a 401 *scim.Error; the router adds WWW-Authenticate.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*Principal, error)
}
