package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// CPUMeter reads the CPU time used so far by this process and by a
// PostgreSQL server (the postmaster and all its children, alive or exited),
// so a benchmark can report CPU per operation on each side. Unlike rates,
// CPU per operation barely moves when other work shares the machine.
type CPUMeter struct{ postmaster int }

// NewCPUMeter finds the postmaster of q's server through a backend's
// parent process; the server must run on this machine.
func NewCPUMeter(tb testing.TB, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) CPUMeter {
	tb.Helper()
	var pid int
	if err := q.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		tb.Fatal(err)
	}
	f, err := procStat(pid)
	if err != nil || len(f) < 15 {
		tb.Fatalf("reading the server's CPU time needs PostgreSQL on this machine (backend %d): %v", pid, err)
	}
	pp, _ := strconv.Atoi(f[1])
	return CPUMeter{postmaster: pp}
}

// procStat returns the fields of /proc/pid/stat after the command name
// (field 3, the state, is index 0).
func procStat(pid int) ([]string, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

const clockTick = 10 * time.Millisecond // USER_HZ 100

// Sample returns this process's CPU time and the server's.
func (m CPUMeter) Sample() (client, server time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	ticks := func(f []string, i ...int) (n int64) {
		for _, k := range i {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			n += v
		}
		return n
	}
	// Fields (0-based after the name): 1 ppid, 11 utime, 12 stime, 13 cutime, 14 cstime.
	var t int64
	if f, err := procStat(m.postmaster); err == nil && len(f) >= 15 {
		t += ticks(f, 11, 12, 13, 14)
	}
	parent := strconv.Itoa(m.postmaster)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		f, err := procStat(pid)
		if err != nil || len(f) < 15 || f[1] != parent {
			continue
		}
		t += ticks(f, 11, 12)
	}
	return client, time.Duration(t) * clockTick
}

// Server returns the server's CPU time alone.
func (m CPUMeter) Server() time.Duration { _, s := m.Sample(); return s }

// Client returns this process's CPU time alone.
func (m CPUMeter) Client() time.Duration { c, _ := m.Sample(); return c }
