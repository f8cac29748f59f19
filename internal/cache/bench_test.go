package cache_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// benchLatency is the simulator's delay per answer: a vendor over the
// internet. GET /Users/{id} through the Webex adapter makes two calls (the
// user, then its groups), a userName lookup one.
const benchLatency = 50 * time.Millisecond

// benchUsers is the working set the requests cycle through.
const benchUsers = 50

// BenchmarkCache measures what the cache saves on the two reads identity
// providers make most: GET by id and the `userName eq` lookup before a
// create, through the engine, against the Webex adapter over a simulator
// that answers after benchLatency. Requests cycle through a working set of
// benchUsers users, warmed before the clock starts: this is the steady
// state, where every cached read is a hit (a miss costs what uncached
// costs).
//
// Reported: p50 and p99 latency of one request (ms), and requests per
// second, for one caller (seq) and for 16 concurrent callers (par16).
func BenchmarkCache(b *testing.B) {
	sim := webextest.NewServer(b, webextest.WithLatency(benchLatency), webextest.WithSeed(benchUsers))
	vendor, err := webex.New(sim.URL, sim.OrgID(), outbound.StaticToken(sim.IssueToken()),
		[]outbound.Option{outbound.WithHTTPClient(sim.Client())})
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, benchUsers)
	for i := range names {
		names[i] = fmt.Sprintf("seed%04d@example.com", i+1)
	}
	ids := seedIDs(b, engine.New(vendor, engine.Options{}), names)

	redisSrv := redistest.Start(b)
	redisStore, err := (&cache.RedisConfig{Addrs: []string{redisSrv.Addr}}).Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = redisStore.Close() })

	for _, store := range []struct {
		name string
		wrap func(a adapters.Adapter, run string) adapters.Adapter
	}{
		{"uncached", func(a adapters.Adapter, _ string) adapters.Adapter { return a }},
		{"memory", func(a adapters.Adapter, run string) adapters.Adapter {
			return cache.Wrap(a, cache.NewMemory(0, nil), cache.Options{Target: run})
		}},
		{"redis", func(a adapters.Adapter, run string) adapters.Adapter {
			return cache.Wrap(a, redisStore, cache.Options{Target: run})
		}},
	} {
		for _, op := range []struct {
			name string
			do   func(e *engine.Engine, i int) error
		}{
			{"get", func(e *engine.Engine, i int) error {
				_, err := e.Get(b.Context(), e.ResourceType("User"), ids[i%len(ids)], engine.Projection{})
				return err
			}},
			{"lookup", func(e *engine.Engine, i int) error {
				lr, err := e.Search(b.Context(), e.ResourceType("User"), engine.Query{
					Filter: fmt.Sprintf("userName eq %q", names[i%len(names)]), Count: -1,
				})
				if err == nil && lr.TotalResults != 1 {
					err = fmt.Errorf("lookup found %d users", lr.TotalResults)
				}
				return err
			}},
		} {
			for _, par := range []int{1, 16} {
				mode := "seq"
				if par > 1 {
					mode = fmt.Sprintf("par%d", par)
				}
				b.Run(store.name+"/"+op.name+"/"+mode, func(b *testing.B) {
					e := engine.New(store.wrap(vendor, b.Name()), engine.Options{})
					// Warm: two passes over the working set (a lookup's
					// first pass fills the index, its second the user).
					for i := range 2 * benchUsers {
						if err := op.do(e, i); err != nil {
							b.Fatal(err)
						}
					}
					runLatency(b, par, func(i int) error { return op.do(e, i) })
				})
			}
		}
	}
}

// runLatency runs do from par goroutines until b.N requests are done, and
// reports the latency percentiles and the throughput.
func runLatency(b *testing.B, par int, do func(i int) error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   []time.Duration
		wg    sync.WaitGroup
		first error
	)
	b.ResetTimer()
	start := time.Now()
	for range par {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					break
				}
				t0 := time.Now()
				err := do(i)
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					break
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
}

// seedIDs returns the ids of the seeded users, by userName.
func seedIDs(b *testing.B, e *engine.Engine, names []string) []string {
	lr, err := e.Search(b.Context(), e.ResourceType("User"), engine.Query{Filter: `userName sw "seed"`, Count: 1000})
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]string{}
	for _, r := range lr.Resources {
		byName[fmt.Sprint(r["userName"])] = r.ID()
	}
	ids := make([]string, len(names))
	for i, n := range names {
		if ids[i] = byName[n]; ids[i] == "" {
			b.Fatalf("seeded user %s not found", n)
		}
	}
	return ids
}
