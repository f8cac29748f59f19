package ringcentral_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral/rctest"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// BenchmarkResidualFilter runs `department co "Engineer"`, which RingCentral
// cannot filter, over every simulated user: the engine pages through the
// vendor and keeps only the matches of the window asked for. The
// simulator runs in a process of its own; the benchmark reports the
// gateway's CPU per scanned user and the peak live heap a scan adds, which
// must not grow with the user count (compare the 10k and 100k runs). Rate limits are off: with the default
// 50 reads a minute, 100,000 users in pages of 100 would take 20 minutes
// (see docs/ringcentral.md).
func BenchmarkResidualFilter(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(itoa(n), func(b *testing.B) {
			url, token := startSimulatorProcess(b, n)
			a, err := ringcentral.New(url, outbound.StaticToken(token), nil,
				ringcentral.WithMaxPageSize(1000),
				ringcentral.WithLimits(ringcentral.Limits{Light: 1 << 30, Heavy: 1 << 30, Window: time.Minute}))
			if err != nil {
				b.Fatal(err)
			}
			e := engine.New(a, engine.Options{})
			search := func() {
				lr, err := e.Search(b.Context(), ringcentral.UserType, engine.Query{Filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "Engineer"`, Count: 10})
				if err != nil {
					b.Fatal(err)
				}
				if lr.TotalResults == 0 {
					b.Fatal("no match: the seed has no engineering department")
				}
			}
			search() // connections and first allocations out of the way
			runtime.GC()
			base := heapBytes()
			peak := newPeak()
			var cpu time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := cpuTime()
				search()
				cpu += cpuTime() - start
			}
			b.StopTimer()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/user")
			b.ReportMetric(float64(peak.stop()-base)/(1<<20), "peak-MiB")
		})
	}
}

// simulatorUsersEnv makes the test binary serve a seeded simulator instead
// of running tests: the benchmark runs it as a process of its own, so that
// the CPU and memory it measures are the gateway's alone.
const simulatorUsersEnv = "RINGCENTRAL_SIMULATOR_USERS"

func TestMain(m *testing.M) {
	if n := os.Getenv(simulatorUsersEnv); n != "" {
		serveSimulator(n)
		return
	}
	os.Exit(m.Run())
}

// serveSimulator serves a simulator seeded with n users on a loopback port,
// printing its URL and a token, until the process is killed.
func serveSimulator(n string) {
	users, err := strconv.Atoi(n)
	if err != nil {
		panic(err)
	}
	sim := rctest.New(rctest.WithoutRateLimits(), rctest.WithSeed(users), rctest.WithMaxCount(1000))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("http://%s %s\n", ln.Addr(), sim.IssueToken())
	_ = http.Serve(ln, sim)
}

func startSimulatorProcess(b *testing.B, users int) (url, token string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", simulatorUsersEnv, users))
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if _, err := fmt.Fscan(bufio.NewReader(out), &url, &token); err != nil {
		b.Fatalf("simulator process: %v", err)
	}
	return url, token
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

// peakSampler samples the live heap (after a collection, so garbage the
// collector has not reached yet does not count) every 100ms until stop.
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
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.GC()
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
