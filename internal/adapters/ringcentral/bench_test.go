package ringcentral_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral/rctest"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// BenchmarkResidualFilter runs `title co "Engineer"`, which RingCentral
// cannot filter, over every simulated user: the engine pages through the
// vendor and keeps only the matches of the window asked for. It reports
// the gateway's CPU per scanned user and the peak heap the scan adds above
// the simulator's own store; the latter must not grow with the user count
// (compare the 10k and 100k runs). Rate limits are off: with the default
// 50 reads a minute, 100,000 users in pages of 100 would take 20 minutes
// (see docs/ringcentral.md).
func BenchmarkResidualFilter(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(itoa(n), func(b *testing.B) {
			srv := rctest.NewServer(b, rctest.WithoutRateLimits(), rctest.WithSeed(n), rctest.WithMaxCount(1000))
			a, err := ringcentral.New(srv.URL, outbound.StaticToken(srv.IssueToken()), nil,
				ringcentral.WithMaxPageSize(1000),
				ringcentral.WithLimits(ringcentral.Limits{Light: 1 << 30, Heavy: 1 << 30, Window: time.Minute}))
			if err != nil {
				b.Fatal(err)
			}
			e := engine.New(a, engine.Options{})
			runtime.GC()
			base := heapBytes()
			peak := newPeak()
			var cpu time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := cpuTime()
				lr, err := e.Search(b.Context(), ringcentral.UserType, engine.Query{Filter: `title co "Engineer"`, Count: 10})
				cpu += cpuTime() - start
				if err != nil {
					b.Fatal(err)
				}
				if lr.TotalResults == 0 {
					b.Fatal("no match: the seed has no engineers")
				}
			}
			b.StopTimer()
			// The process's CPU includes the simulator's side, which is
			// most of it; it bounds the gateway's from above.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/user")
			b.ReportMetric(float64(peak.stop()-base)/(1<<20), "peak-MiB")
		})
	}
}

func itoa(n int) string { return fmt.Sprintf("%dk", n/1000) }

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peak samples the heap every millisecond until stop.
type peakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

func newPeak() *peakSampler {
	p := &peakSampler{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			p.max = max(p.max, heapBytes())
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}
