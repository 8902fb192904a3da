// Package natstest starts a real nats-server (Debian package) with JetStream
// for a test, on a free loopback port, stopped when the test ends.
package natstest

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// Start runs nats-server -js and returns its URL.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatalf("nats-server not installed (scripts/deps.sh installs it): %v", err)
	}
	port, monitor := freePort(t), freePort(t)
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-m", fmt.Sprint(monitor), "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Ready when the health endpoint says JetStream is up, not merely when
	// the client port accepts connections.
	health := fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", monitor)
	for i := 0; i < 200; i++ {
		if r, err := http.Get(health); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return fmt.Sprintf("nats://127.0.0.1:%d", port)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("nats-server did not become ready with JetStream in 10 s")
	return ""
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
