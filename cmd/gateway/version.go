package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)" ./cmd/gateway
//
// Left empty, they come from the module and VCS information the Go
// toolchain records in the binary, when it does.
var (
	version string
	commit  string
)

// versionString describes the build, e.g.
// "gateway v1.2.3 (commit 0123abc, go1.26.8 linux/amd64)".
func versionString() string {
	v, c := buildVersion()
	return fmt.Sprintf("gateway %s (commit %s, %s %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion returns the version and commit of the build: those set at
// build time, else those the toolchain recorded, else "devel" and "unknown".
func buildVersion() (v, c string) {
	v, c = version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if c == "" {
			var dirty bool
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					c = shortRevision(s.Value)
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if c != "" && dirty {
				c += "-dirty"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

// shortRevision abbreviates a commit hash the way git log --oneline does.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
