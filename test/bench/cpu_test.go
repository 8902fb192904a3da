package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuMeter reads the CPU time used so far by this process and by the
// PostgreSQL server (the postmaster and all its children, alive or exited),
// so a benchmark can report CPU per operation on each side. Unlike rates,
// CPU per operation barely moves when other work shares the machine.
type cpuMeter struct{ postmaster int }

// newCPUMeter finds the postmaster of pool's server through a backend's
// parent process; the server must run on this machine.
func newCPUMeter(b *testing.B, pool *pgxpool.Pool) cpuMeter {
	var pid int
	if err := pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	f, err := procStat(pid)
	if err != nil {
		b.Fatalf("reading the server's CPU time needs PostgreSQL on this machine: %v", err)
	}
	pp, _ := strconv.Atoi(f[1])
	return cpuMeter{postmaster: pp}
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

// sample returns this process's CPU time and the server's.
func (m cpuMeter) sample() (client, server time.Duration) {
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
	if f, err := procStat(m.postmaster); err == nil {
		t += ticks(f, 11, 12, 13, 14)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		f, err := procStat(pid)
		if err != nil || len(f) < 15 || f[1] != strconv.Itoa(m.postmaster) {
			continue
		}
		t += ticks(f, 11, 12)
	}
	return client, time.Duration(t) * clockTick
}

// statementCounter counts the statements PostgreSQL ran in the
// benchmark's database (pg_stat_statements, when the server loads it:
// shared_preload_libraries = 'pg_stat_statements'), background work such
// as projector polls included.
type statementCounter struct{ pool *pgxpool.Pool }

// newStatementCounter creates the extension in the database if the server
// loads it; count then answers -1 when it does not.
func newStatementCounter(b *testing.B, pool *pgxpool.Pool) statementCounter {
	_, _ = pool.Exec(context.Background(), `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	return statementCounter{pool: pool}
}

func (c statementCounter) count() int64 {
	var n int64
	err := c.pool.QueryRow(context.Background(), `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}
