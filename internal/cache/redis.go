package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// The defaults of RedisConfig.
const (
	DefaultRedisTimeout      = 100 * time.Millisecond
	DefaultRedisPingInterval = time.Second
)

// Redis is the Store shared by every replica, over go-redis' universal
// client (one node, Sentinel or Cluster). Each call runs under a short
// timeout. The first failure degrades the store: calls then fail at once
// with ErrUnavailable, and a background PING every ping interval restores
// it when Redis answers again. It is safe for concurrent use; Close stops
// it.
type Redis struct {
	client    redis.UniversalClient
	timeout   time.Duration
	pingEvery time.Duration
	onChange  func(State)

	mu    sync.Mutex
	state State

	stop, done chan struct{}
	closeOnce  sync.Once
}

var _ Store = (*Redis)(nil)

// addScript is Add with keep prefixes, atomically: store ARGV[1] for
// ARGV[2] ms (0: no expiry) unless KEYS[1] holds a value that begins with
// one of ARGV[3..].
var addScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  for i = 3, #ARGV do
    if string.sub(v, 1, string.len(ARGV[i])) == ARGV[i] then return 0 end
  end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`)

// newRedis returns a store over client and starts its ping loop.
func newRedis(client redis.UniversalClient, timeout, pingEvery time.Duration, onChange func(State)) *Redis {
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	if pingEvery <= 0 {
		pingEvery = DefaultRedisPingInterval
	}
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	r := &Redis{
		client: client, timeout: timeout, pingEvery: pingEvery, onChange: onChange,
		state: State{Healthy: true, Since: time.Now()},
		stop:  make(chan struct{}), done: make(chan struct{}),
	}
	go r.loop()
	return r
}

// universalOptions are the client settings every deployment shares: no
// retries inside go-redis (a failed call falls through to the vendor, and
// the store degrades), and deadlines from the context.
func universalOptions(timeout time.Duration) *redis.UniversalOptions {
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	return &redis.UniversalOptions{
		MaxRetries:            -1,
		DialerRetries:         1,
		DialTimeout:           max(timeout, time.Second),
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		PoolTimeout:           timeout,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
		// Redis before 8 does not know CLIENT MAINT_NOTIFICATIONS.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// quiet drops go-redis' own log lines (a failed dial per call while Redis
// is down); the store reports its state through State, Health and
// onChange instead.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// loop pings a degraded store until it answers.
func (r *Redis) loop() {
	defer close(r.done)
	t := time.NewTicker(r.pingEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if !r.State().Healthy {
				_ = r.ping(context.Background())
			}
		}
	}
}

// Close stops the ping loop and closes the client's connections.
func (r *Redis) Close() error {
	var err error
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
		err = r.client.Close()
	})
	return err
}

// State returns the store's health.
func (r *Redis) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Health pings Redis and returns nil when it answered: the check /readyz
// shows as the cache's detail (adapters.HealthChecker). A success restores
// a degraded store.
func (r *Redis) Health(ctx context.Context) error {
	if err := r.ping(ctx); err != nil {
		st := r.State()
		return fmt.Errorf("redis degraded since %s: %s", st.Since.UTC().Format(time.RFC3339), st.LastError)
	}
	return nil
}

func (r *Redis) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := r.client.Ping(ctx).Err()
	r.observe(ctx, err)
	return err
}

// observe records the outcome of a call: a failure degrades the store,
// unless it was the caller who gave up; a success of a ping restores it.
func (r *Redis) observe(ctx context.Context, err error) {
	if err != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return // the caller went away: no news about Redis
	}
	r.mu.Lock()
	var changed bool
	switch {
	case err != nil:
		r.state.LastError = err.Error()
		if r.state.Healthy {
			r.state.Healthy, r.state.Since, changed = false, time.Now(), true
		}
	case !r.state.Healthy:
		r.state.Healthy, r.state.Since, changed = true, time.Now(), true
	}
	st := r.state
	r.mu.Unlock()
	if changed && r.onChange != nil {
		r.onChange(st)
	}
}

// call runs f under the store's timeout, failing at once while degraded.
func (r *Redis) call(ctx context.Context, f func(ctx context.Context) error) error {
	if st := r.State(); !st.Healthy {
		return fmt.Errorf("%w: %s", ErrUnavailable, st.LastError)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := f(ctx)
	r.observe(ctx, err)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Get implements Store with one pipeline of GETs (which Cluster splits by
// node).
func (r *Redis) Get(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	err := r.call(ctx, func(ctx context.Context) error {
		cmds := make([]*redis.StringCmd, len(keys))
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, c := range cmds {
			b, err := c.Bytes()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			default:
				out[i] = b
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, ttl time.Duration, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return r.call(ctx, func(ctx context.Context) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, e := range entries {
				p.Set(ctx, e.Key, e.Value, expiry(ttl))
			}
			return nil
		})
		return err
	})
}

// Add implements Store: SET NX, or a script when keep is given.
func (r *Redis) Add(ctx context.Context, key string, value []byte, ttl time.Duration, keep ...[]byte) (bool, error) {
	var added bool
	err := r.call(ctx, func(ctx context.Context) error {
		if len(keep) == 0 {
			ok, err := r.client.SetNX(ctx, key, value, expiry(ttl)).Result()
			added = ok
			return err
		}
		args := make([]any, 0, 2+len(keep))
		args = append(args, value, expiry(ttl).Milliseconds())
		for _, k := range keep {
			args = append(args, k)
		}
		n, err := addScript.Run(ctx, r.client, []string{key}, args...).Int()
		added = n == 1
		return err
	})
	return added, err
}

// Delete implements Store with one pipeline of DELs (keys of a Cluster may
// live on different nodes).
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return r.call(ctx, func(ctx context.Context) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		return err
	})
}

// expiry rounds ttl up to Redis' millisecond; 0 means none.
func expiry(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return max(ttl, time.Millisecond)
}
