// Package outbound is the HTTP client every vendor adapter talks through:
// one per target, with bearer tokens, per-attempt timeouts, retries that
// never re-send a request whose outcome is unknown, Retry-After, a
// client-side rate limit and a circuit breaker.
package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// Request is one vendor call. Body is resent unchanged on retries.
type Request struct {
	Method string
	Path   string      // joined to the client's base URL, e.g. "/Users/123" (already escaped as needed)
	Query  url.Values  // may be nil
	Header http.Header // extra headers; Content-Type defaults to application/json when Body != nil
	Body   []byte
	// Op names the call for logs, spans and metrics, e.g. "webex.CreateUser".
	Op string
}

// Response is the final HTTP answer (after retries). Any status is a
// Response, not an error: adapters map vendor statuses and bodies to
// *scim.Error themselves.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte // at most the configured limit (default 16 MiB)
	Attempts int    // how many times the request was sent (attempts that failed to connect included)
}

// ErrOutcomeUnknown is wrapped by Do's error when a non-idempotent request
// (POST, PATCH) was sent but no response came back (timeout after sending,
// connection reset, 502/504 from a proxy): the vendor may or may not have
// applied it. The client never re-sends such a request itself; the adapter
// looks the resource up (userName / externalId / displayName) before
// deciding to send again.
var ErrOutcomeUnknown = errors.New("outbound: request sent, outcome unknown")

// OutcomeError is the error Do returns for ErrOutcomeUnknown. It matches
// ErrOutcomeUnknown with errors.Is, and its Err is a *scim.Error (504 after
// a timeout, otherwise 502) found by errors.As, so an adapter that passes
// it on unhandled still answers its caller correctly.
type OutcomeError struct {
	Op     string
	Method string
	// Response is the answer that left the outcome open (a 502 or 504 from
	// a proxy, or an answer whose body exceeded the limit; its Body is then
	// nil), so vendor tracking ids in its headers are kept. Nil when no
	// answer came.
	Response *Response
	Attempts int
	Err      error
}

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("outbound: %s %s: request sent, outcome unknown: %v", e.Op, e.Method, e.Err)
}

// Unwrap returns ErrOutcomeUnknown and the *scim.Error.
func (e *OutcomeError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.Err} }

// Client sends Requests to one target. It is safe for concurrent use; make
// one per target so that connections, the token, the rate limit and the
// breaker are shared by that target's requests and no other's.
type Client struct {
	base      *url.URL
	tokens    TokenSource
	hc        *http.Client
	timeout   time.Duration
	retry     RetryPolicy
	limiter   *rate.Limiter // nil: no limit
	shared    Limiter       // WithLimiter; when set, limiter is nil
	breaker   *breaker      // nil: off
	hooks     []func(*http.Request)
	log       *slog.Logger
	userAgent string
	maxBody   int64
	logHeader []string
	tp        trace.TracerProvider // nil: the context's or the global one
	tracked   []string             // response headers holding the vendor's tracking id

	holdMu     sync.Mutex
	holdUntil  time.Time // no request is sent before it (see holdOn)
	holdStatus int

	// Hooks for tests: the clock, sleeping, and the jitter in [0, 1).
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64
}

// CheckBaseURL reports what makes raw unfit as a target's base URL: it
// must be an absolute http or https URL with a host, without credentials
// (the error never echoes a URL that holds them), query or fragment.
// Adapters' Validate call it so that the problem is reported with the
// configuration's other problems.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the cause only: the URL may hold a secret
		}
		return err
	}
	switch {
	case u.User != nil:
		return errors.New("must not hold credentials; use the target's token settings")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got %q", raw)
	case u.Host == "":
		return fmt.Errorf("host required, got %q", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("must not have a query or fragment, got %q", raw)
	}
	return nil
}

// New returns a Client for the target at baseURL (absolute http or https).
// tokens supplies the bearer token of every attempt; nil, or a source that
// returns "", sends no Authorization header.
func New(baseURL string, tokens TokenSource, opts ...Option) (*Client, error) {
	if err := CheckBaseURL(baseURL); err != nil {
		return nil, fmt.Errorf("outbound: base URL: %w", err)
	}
	u, _ := url.Parse(baseURL) // checked
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")

	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	tracked := o.instrument()
	c := &Client{
		base:      u,
		tokens:    tokens,
		timeout:   o.timeout,
		retry:     o.retry,
		hooks:     o.hooks,
		log:       o.log,
		userAgent: o.userAgent,
		maxBody:   o.maxBody,
		logHeader: o.logHeader,
		tp:        o.tp,
		tracked:   tracked,
		shared:    o.shared,
		now:       o.now,
		sleep:     o.sleep,
		jitter:    rand.Float64,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("target", u.Host)
	if c.retry.Max < c.retry.Base {
		c.retry.Max = c.retry.Base
	}
	c.hc = o.hc
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if len(o.wraps) > 0 {
		hc := *c.hc // never modify the caller's client
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		for _, w := range o.wraps {
			rt = w(rt)
		}
		hc.Transport = rt
		c.hc = &hc
	}
	if o.limit > 0 && o.shared == nil {
		burst := o.burst
		if burst < 1 {
			burst = max(1, int(float64(o.limit)+0.999999))
		}
		c.limiter = rate.NewLimiter(o.limit, burst)
	}
	if o.breaker.Failures > 0 {
		c.breaker = &breaker{failures: o.breaker.Failures, cooldown: o.breaker.Cooldown, log: c.log}
	}
	return c, nil
}

// defaultHTTPClient is a client with its own transport, tuned for many
// requests to one host: kept-alive connections, bounded handshakes, and no
// redirects (a vendor API answering 3xx is answered as such; following it
// would re-send a POST body and the token elsewhere).
func defaultHTTPClient() *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		// Someone replaced the default transport: build the same by hand.
		t = &http.Transport{
			Proxy:       http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		}
	}
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// BaseURL returns a copy of the target's base URL (without a trailing
// slash).
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// idempotent reports whether a method may be sent twice with the effect of
// once (RFC 9110 §9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// attempt is what one send produced.
type attempt struct {
	resp    *Response // the answer; nil when none came
	err     error     // the transport error when resp is nil, or errTooLarge
	sent    bool      // the request line and headers were written: the vendor may have acted on it
	timeout bool      // the per-attempt timeout (not the caller's context) ended it
	invalid bool      // the request could not be built (a bad method or path): a bug, not retried
}

var errTooLarge = errors.New("response body exceeds the limit")

// Do sends req and returns the vendor's final answer. Every HTTP answer is
// a *Response, whatever its status: the last one when retries are used up,
// and also a 429 or 503 whose Retry-After asks for a longer wait than the
// caller's deadline (or RetryPolicy.MaxRetryAfter) allows, which Do returns
// at once instead of sleeping into a sure timeout; adapters map it with
// RetryAfter to a 429/503 *scim.Error and keep the vendor's tracking id.
//
// Errors are *scim.Error values: 504 when the caller's deadline ends (or is
// cancelled) or the attempts time out, 502 when the vendor is unreachable
// after retries, its token cannot be had, or its answer exceeds the size
// limit, 503 with RetryAfter while the circuit breaker is open, and 429
// with RetryAfter when the client-side rate limit would delay the request
// past the caller's deadline. The exception is *OutcomeError (ErrOutcomeUnknown)
// for a POST or PATCH that was sent without a usable answer.
//
// Retries use jittered exponential backoff. Idempotent methods are retried
// on transport errors and 429/502/503/504; POST and PATCH only when the
// request provably was not processed: nothing of it was written (dial,
// TLS), or a 429 or 503 answer. Retry-After (seconds or HTTP-date) is
// honoured. A 401 invalidates the token and re-sends once with a fresh one.
func (c *Client) Do(ctx context.Context, req Request) (resp *Response, err error) {
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	ctx, call := c.startCall(ctx, req, method) // telemetry.go
	defer func() { call.end(resp, err) }()
	u := c.url(req)
	idem := idempotent(method)
	var (
		last      *Response // the last answer, returned when Do stops short
		lastErr   error     // the error to return when Do stops short without an answer
		attempts  int       // sends, the re-send after a 401 included
		tries     int       // sends counted against MaxAttempts
		refreshed bool
		refused   string // the token a 401 refused
	)
	for {
		if err := c.admit(ctx, req.Op); err != nil {
			return c.stopped(last, lastErr, err)
		}
		tok := ""
		if c.tokens != nil {
			var err error
			tok, err = c.tokens.Token(ctx)
			if err != nil {
				c.breaker.release()
				return nil, c.tokenError(ctx, req.Op, err)
			}
			if refreshed && tok == refused {
				// The source had nothing fresher (a static token): the 401
				// stands.
				c.breaker.release()
				return last, nil
			}
		}
		attempts++
		tries++
		start := c.now()
		a := c.send(ctx, method, u, req, tok)
		elapsed := c.now().Sub(start)
		c.record(ctx, a)
		c.logAttempt(ctx, req, method, attempts, a, elapsed)
		call.attempt(ctx, a, elapsed)

		if a.resp != nil && a.err == nil {
			a.resp.Attempts = attempts
			st := a.resp.Status
			if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable {
				c.holdOn(a.resp)
			}
			if st == http.StatusUnauthorized && !refreshed && c.tokens != nil {
				// The vendor refused the token (expired early, revoked, rotated
				// elsewhere): one re-send with a fresh one. Safe for POST too:
				// a 401 was not processed.
				refreshed, refused = true, tok
				c.tokens.Invalidate(tok)
				call.retry(ctx, telemetry.RetryToken)
				tries--
				last, lastErr = a.resp, nil
				continue
			}
			if !idem && (st == http.StatusBadGateway || st == http.StatusGatewayTimeout) {
				// A proxy's 502/504 says nothing about whether the vendor
				// behind it applied the request.
				return nil, &OutcomeError{Op: req.Op, Method: method, Response: a.resp, Attempts: attempts,
					Err: &scim.Error{Status: st, Detail: "the vendor did not confirm the request; its outcome is unknown",
						Err: fmt.Errorf("vendor status %d", st)}}
			}
			if !retryStatus(st, idem) || tries >= c.retry.MaxAttempts {
				return a.resp, nil
			}
			wait, fromVendor := c.waitFor(a.resp, tries)
			if fromVendor && wait > c.retry.MaxRetryAfter {
				return a.resp, nil
			}
			if !c.fits(ctx, wait) {
				return a.resp, nil
			}
			c.logRetry(ctx, req, method, tries, st, nil, wait)
			call.retry(ctx, retryReason(st))
			if err := c.sleep(ctx, wait); err != nil {
				return nil, c.ctxError(ctx, req.Op)
			}
			last, lastErr = a.resp, nil
			continue
		}

		// No usable answer.
		if a.invalid {
			return nil, fmt.Errorf("outbound: %s: %w", req.Op, a.err)
		}
		if ctx.Err() != nil {
			if a.sent && !idem {
				return nil, c.unknown(req.Op, method, attempts, a, c.ctxError(ctx, req.Op))
			}
			return nil, c.ctxError(ctx, req.Op)
		}
		final := c.transportError(req.Op, a, attempts)
		if errors.Is(a.err, errTooLarge) {
			// The same answer would come again: not retried.
			if !idem {
				return nil, c.unknown(req.Op, method, attempts, a, final)
			}
			return nil, final
		}
		if a.sent && !idem {
			return nil, c.unknown(req.Op, method, attempts, a, final)
		}
		if tries >= c.retry.MaxAttempts {
			return nil, final
		}
		wait := c.backoff(tries)
		if !c.fits(ctx, wait) {
			return nil, final
		}
		c.logRetry(ctx, req, method, tries, 0, a.err, wait)
		call.retry(ctx, telemetry.RetryTransport)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.ctxError(ctx, req.Op)
		}
		last, lastErr = nil, final
	}
}

// retryStatus reports whether an answer with status st is retried: 429 and
// 503 say the request was not processed (RFC 9110 §15.6.4, RFC 6585 §4),
// so for any method; 502 and 504 only for idempotent ones.
func retryStatus(st int, idem bool) bool {
	switch st {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return idem
	}
	return false
}

// url joins the request path and query to the base URL.
func (c *Client) url(req Request) string {
	var b strings.Builder
	b.Grow(len(c.base.Scheme) + 3 + len(c.base.Host) + len(c.base.Path) + len(req.Path) + 1)
	b.WriteString(c.base.Scheme)
	b.WriteString("://")
	b.WriteString(c.base.Host)
	b.WriteString(c.base.EscapedPath())
	if req.Path != "" && !strings.HasPrefix(req.Path, "/") {
		b.WriteByte('/')
	}
	b.WriteString(req.Path)
	if len(req.Query) > 0 {
		if strings.Contains(req.Path, "?") {
			b.WriteByte('&')
		} else {
			b.WriteByte('?')
		}
		b.WriteString(req.Query.Encode())
	}
	return b.String()
}

// send makes one attempt.
func (c *Client) send(ctx context.Context, method, u string, req Request, tok string) attempt {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// WroteHeaders fires once the request line and headers went to the
	// connection's buffer: before it, nothing reached the vendor (dial, TLS,
	// proxy CONNECT failures), so even a POST is safe to re-send. GetConn
	// fires first in any transport that reports to httptrace (net/http's
	// does); one that does not, leaves only the error to judge by.
	var traced, wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		GetConn:      func(string) { traced.Store(true) },
		WroteHeaders: func() { wrote.Store(true) },
	})
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return attempt{err: err, invalid: true}
	}
	// NewRequest set GetBody for the *bytes.Reader, which lets the
	// transport replay the body on a connection the server had closed
	// before reading anything.
	for k, v := range req.Header {
		// Clipped, so that a hook's Add reallocates instead of writing
		// into the caller's array.
		hr.Header[k] = slices.Clip(v)
	}
	if req.Body != nil && hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, h := range c.hooks {
		h(hr)
	}
	resp, err := c.hc.Do(hr)
	timedOut := func() bool { return ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) }
	if err != nil {
		sent := wrote.Load() || (!traced.Load() && !connectError(err))
		return attempt{err: err, sent: sent, timeout: timedOut()}
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode, Header: resp.Header}
	cl := resp.ContentLength
	if method == http.MethodHead {
		cl = -1 // the length a GET would have; there is no body
	}
	r.Body, err = readCapped(resp.Body, cl, c.maxBody)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			r.Body = nil
			return attempt{resp: r, err: err, sent: true}
		}
		// Cut off mid-body: as good as no answer.
		return attempt{err: err, sent: true, timeout: timedOut()}
	}
	return attempt{resp: r, sent: true}
}

// connectError reports whether err arose while connecting (name lookup,
// dial, proxy CONNECT, TLS handshake), before any of the request could be
// written.
func connectError(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &certErr), errors.As(err, &recErr):
		return true
	case errors.As(err, &opErr):
		return opErr.Op == "dial" || opErr.Op == "proxyconnect"
	}
	return false
}

// readCapped reads r to the end, failing with errTooLarge past limit bytes.
func readCapped(r io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return nil, errTooLarge
	}
	var buf bytes.Buffer
	if contentLength > 0 {
		buf.Grow(int(contentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	if n == 0 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// record tells the breaker how an attempt went: transport failures and 5xx
// count against the vendor; 4xx, the caller's own cancellation and a
// request that could not be built do not.
func (c *Client) record(ctx context.Context, a attempt) {
	switch {
	case a.resp != nil:
		c.breaker.done(c.now(), vendorFailure(a.resp.Status))
	case ctx.Err() != nil, a.invalid:
		c.breaker.release()
	default:
		c.breaker.done(c.now(), true)
	}
}

// vendorFailure reports whether an answer counts against the vendor's
// health: 5xx, except 501 and 505, which say what the vendor does not do,
// not that it is failing.
func vendorFailure(st int) bool {
	return st >= 500 && st != http.StatusNotImplemented && st != http.StatusHTTPVersionNotSupported
}

// admit passes the breaker and the rate limit before an attempt; on
// failure it returns the *scim.Error.
func (c *Client) admit(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return c.ctxError(ctx, op)
	}
	if err := c.waitHold(ctx, op); err != nil {
		return err
	}
	if ok, wait := c.breaker.allow(c.now()); !ok {
		return &scim.Error{Status: http.StatusServiceUnavailable, RetryAfter: seconds(wait),
			Detail: "the vendor is failing; requests are paused (circuit breaker open)",
			Err:    fmt.Errorf("outbound: %s: circuit breaker open", op)}
	}
	if c.shared != nil {
		return c.admitShared(ctx, op)
	}
	if c.limiter == nil {
		return nil
	}
	now := c.now()
	r := c.limiter.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if !r.OK() || !c.fits(ctx, d) {
		r.CancelAt(now)
		c.breaker.release()
		return &scim.Error{Status: http.StatusTooManyRequests, RetryAfter: seconds(d),
			Detail: "the target's request rate limit is reached; retry later",
			Err:    fmt.Errorf("outbound: %s: client-side rate limit", op)}
	}
	noteWait(ctx)
	if err := c.sleep(ctx, d); err != nil {
		r.CancelAt(c.now())
		c.breaker.release()
		return c.ctxError(ctx, op)
	}
	// A vendor may have paused the target while this request waited its
	// turn; sending it now would earn another 429 (and, at RingCentral,
	// restart the penalty).
	if err := c.waitHold(ctx, op); err != nil {
		c.breaker.release()
		return err
	}
	return nil
}

// holdOn pauses the whole client after a 429 or 503 with Retry-After:
// the vendor limits the target (its token), not one request, and a request
// sent before the wait passes only earns another 429 (VENDORS.md 1.11) or,
// at RingCentral, restarts the penalty (VENDORS.md 2.10). The pause is
// capped at RetryPolicy.MaxRetryAfter.
func (c *Client) holdOn(r *Response) {
	d, ok := RetryAfter(r.Header, c.now())
	if !ok || d <= 0 {
		return
	}
	until := c.now().Add(min(d, c.retry.MaxRetryAfter))
	c.holdMu.Lock()
	if until.After(c.holdUntil) {
		c.holdUntil, c.holdStatus = until, r.Status
	}
	c.holdMu.Unlock()
}

// waitHold waits out a pause set by holdOn, or fails at once with its
// status (429 or 503) and Retry-After when the caller's deadline comes
// first.
func (c *Client) waitHold(ctx context.Context, op string) error {
	c.holdMu.Lock()
	until, st := c.holdUntil, c.holdStatus
	c.holdMu.Unlock()
	d := until.Sub(c.now())
	if d <= 0 {
		return nil
	}
	if !c.fits(ctx, d) {
		return &scim.Error{Status: st, RetryAfter: seconds(d),
			Detail: "the vendor asked to pause requests to this target; retry later",
			Err:    fmt.Errorf("outbound: %s: target paused by vendor status %d", op, st)}
	}
	noteWait(ctx)
	if err := c.sleep(ctx, d); err != nil {
		return c.ctxError(ctx, op)
	}
	return nil
}

// stopped ends Do when admission fails after earlier attempts: the last
// vendor answer wins over the admission error, so a retry that cannot be
// made still returns what the vendor said.
func (c *Client) stopped(last *Response, lastErr, err error) (*Response, error) {
	if last != nil {
		return last, nil
	}
	if lastErr != nil {
		var se *scim.Error
		if errors.As(err, &se) && se.Status == http.StatusGatewayTimeout {
			return nil, err
		}
		return nil, lastErr
	}
	return nil, err
}

// attemptReserve is the time a wait must leave before the caller's
// deadline for the attempt after it: sending a POST with a few
// milliseconds left would likely turn a clear 429 into an unknown outcome.
const attemptReserve = 250 * time.Millisecond

// fits reports whether waiting d still leaves time for an attempt before
// the caller's deadline.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || !c.now().Add(d+attemptReserve).After(dl)
}

// waitFor is the wait before retrying after answer r of try n, and whether
// the vendor asked for it (Retry-After).
func (c *Client) waitFor(r *Response, n int) (time.Duration, bool) {
	if d, ok := RetryAfter(r.Header, c.now()); ok {
		return d, true
	}
	if r.Status == http.StatusTooManyRequests {
		return c.retry.Wait429, false
	}
	return c.backoff(n), false
}

// backoff is the jittered exponential wait after try n (1-based): the
// ceiling doubles from Base up to Max, and the wait is drawn from
// [ceiling/2, ceiling) so concurrent callers spread out.
func (c *Client) backoff(n int) time.Duration {
	d := c.retry.Base
	for i := 1; i < n && d < c.retry.Max; i++ {
		d *= 2
	}
	d = min(d, c.retry.Max)
	half := d / 2
	return half + time.Duration(c.jitter()*float64(d-half))
}

// RetryAfter parses the Retry-After header of h (RFC 9110 §10.2.3): a
// number of seconds or an HTTP-date, relative to now. It reports false when
// the header is absent or malformed; a date in the past is a zero wait.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return maxWait, true
			}
			return 0, false
		}
		if n > uint64(maxWait/time.Second) {
			return maxWait, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, min(t.Sub(now), maxWait)), true
}

// maxWait bounds parsed waits far below time.Duration's range.
const maxWait = 365 * 24 * time.Hour

// RetryAfterSeconds is RetryAfter as whole seconds rounded up, the form of
// scim.Error.RetryAfter; 0 when h has no valid Retry-After.
func RetryAfterSeconds(h http.Header, now time.Time) int {
	d, ok := RetryAfter(h, now)
	if !ok {
		return 0
	}
	return seconds(d)
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ctxError is the 504 for a caller whose context ended.
func (c *Client) ctxError(ctx context.Context, op string) error {
	return &scim.Error{Status: http.StatusGatewayTimeout,
		Detail: "the request's deadline passed before the vendor answered",
		Err:    fmt.Errorf("outbound: %s: %w", op, context.Cause(ctx))}
}

// transportError is the *scim.Error for an attempt without an answer.
func (c *Client) transportError(op string, a attempt, attempts int) error {
	switch {
	case errors.Is(a.err, errTooLarge):
		return &scim.Error{Status: http.StatusBadGateway,
			Detail: fmt.Sprintf("the vendor's answer exceeds %d bytes", c.maxBody),
			Err:    fmt.Errorf("outbound: %s: vendor status %d: %w", op, a.resp.Status, a.err)}
	case a.timeout:
		return &scim.Error{Status: http.StatusGatewayTimeout,
			Detail: fmt.Sprintf("the vendor did not answer within %s", c.timeout),
			Err:    fmt.Errorf("outbound: %s: attempt %d: %w", op, attempts, a.err)}
	}
	return &scim.Error{Status: http.StatusBadGateway, Detail: "the vendor is unreachable",
		Err: fmt.Errorf("outbound: %s: attempt %d: %w", op, attempts, a.err)}
}

func (c *Client) unknown(op, method string, attempts int, a attempt, err error) error {
	return &OutcomeError{Op: op, Method: method, Response: a.resp, Attempts: attempts, Err: err}
}

// tokenError maps a TokenSource failure: the caller's deadline is a 504,
// a *scim.Error passes, anything else is a 502 (the vendor's token
// endpoint is the vendor too).
func (c *Client) tokenError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return c.ctxError(ctx, op)
	}
	var se *scim.Error
	if errors.As(err, &se) {
		return err
	}
	return &scim.Error{Status: http.StatusBadGateway, Detail: "could not obtain an access token for the vendor",
		Err: fmt.Errorf("outbound: %s: token: %w", op, err)}
}

func (c *Client) logAttempt(ctx context.Context, req Request, method string, n int, a attempt, elapsed time.Duration) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("op", req.Op), slog.String("method", method), slog.Int("attempt", n),
		slog.Duration("elapsed", elapsed)}
	if a.resp != nil {
		attrs = append(attrs, slog.Int("status", a.resp.Status))
		for _, h := range c.logHeader {
			if v := a.resp.Header.Get(h); v != "" {
				attrs = append(attrs, slog.String(h, v))
			}
		}
	}
	if a.err != nil {
		attrs = append(attrs, slog.String("error", errText(a.err)), slog.Bool("sent", a.sent))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "outbound attempt", attrs...)
}

func (c *Client) logRetry(ctx context.Context, req Request, method string, n, status int, err error, wait time.Duration) {
	attrs := []slog.Attr{slog.String("op", req.Op), slog.String("method", method), slog.Int("attempt", n),
		slog.Duration("wait", wait)}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errText(err)))
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "outbound retry", attrs...)
}

// errText describes a transport error without the URL, whose query may
// carry a filter with an email address (PII).
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + err.Error()
	}
	return err.Error()
}
