package redistest_test

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
)

func TestStartStopRestart(t *testing.T) {
	s := redistest.Start(t)
	if err := redistest.Ping(s.Addr); err != nil {
		t.Fatalf("Ping after Start: %v", err)
	}
	s.Stop()
	if err := redistest.Ping(s.Addr); err == nil {
		t.Fatal("Ping after Stop succeeded")
	}
	s.Restart()
	if err := redistest.Ping(s.Addr); err != nil {
		t.Fatalf("Ping after Restart: %v", err)
	}
	s.Pause()
	if err := redistest.Ping(s.Addr); err == nil {
		t.Fatal("Ping of a paused server succeeded")
	}
	s.Resume()
	if err := redistest.Ping(s.Addr); err != nil {
		t.Fatalf("Ping after Resume: %v", err)
	}
}

func TestCommand(t *testing.T) {
	s := redistest.Start(t)
	if err := redistest.Command(s.Addr, "SET", "k", "v with spaces"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := redistest.Command(s.Addr, "NOSUCHCOMMAND"); err == nil {
		t.Fatal("an unknown command succeeded")
	}
}
