// Package pcsctest starts a real PC/SC daemon (Debian's pcscd) with the
// vsmartcard virtual reader driver (vpcd) for tests: the virtual cards of
// test/vcard connect to the driver on 127.0.0.1:35963 and programs talk to
// them through libpcsclite exactly as to a USB reader. If pcscd cannot
// start, the test fails with the reason; it never skips.
package pcsctest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Port is where vpcd waits for the first virtual card (reader "Virtual PCD
// 00 00"); the second reader ("Virtual PCD 00 01") listens on Port+1.
const Port = 35963

// Addr is the address virtual cards connect to (the first reader).
var Addr = fmt.Sprintf("127.0.0.1:%d", Port)

// Reader is the PC/SC name of the first vpcd reader.
const Reader = "Virtual PCD 00 00"

// Driver is where Debian's vsmartcard-vpcd installs the reader driver.
const Driver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// Daemon is a running pcscd.
type Daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
}

// Log returns what pcscd printed so far (debug level; APDUs included).
func (d *Daemon) Log() string { return d.log.String() }

// Start starts pcscd in the foreground with the vpcd driver and stops it
// when the test ends. It fails the test with the reason when pcscd or the
// driver is missing (run scripts/deps.sh), when another pcscd already
// runs on this machine, or when the daemon does not become ready.
func Start(t testing.TB) *Daemon {
	t.Helper()
	// pcscd is one per machine (/run/pcscd, the vpcd port): test runs on
	// the same machine take turns through a file lock.
	unlock, err := lockMachine(5 * time.Minute)
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	d, err := start(t.TempDir())
	if err != nil {
		unlock()
		t.Fatalf("pcsctest: %v", err)
	}
	t.Cleanup(unlock) // runs after the daemon stopped (cleanups run last-in first-out)
	t.Cleanup(func() {
		if p := os.Getenv("PCSCTEST_LOG"); p != "" { // keep pcscd's log for debugging
			defer func() { _ = os.WriteFile(p, []byte(d.Log()), 0o644) }()
		}
		if err := d.Stop(); err != nil {
			t.Errorf("pcsctest: %v", err)
		}
	})
	return d
}

func start(dir string) (*Daemon, error) {
	bin, err := exec.LookPath("pcscd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/pcscd"); e != nil {
			return nil, errors.New("pcscd is not installed; run scripts/deps.sh (apt-get install pcscd vsmartcard-vpcd libpcsclite-dev)")
		}
		bin = "/usr/sbin/pcscd"
	}
	if _, err := os.Stat(Driver); err != nil {
		return nil, fmt.Errorf("the vpcd reader driver %s is missing; run scripts/deps.sh (apt-get install vsmartcard-vpcd)", Driver)
	}
	if c, err := net.DialTimeout("tcp", Addr, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s is already in use: another pcscd with vpcd runs on this machine; stop it (systemctl stop pcscd.socket pcscd) so the tests own the reader", Addr)
	}
	conf := filepath.Join(dir, "reader.conf")
	body := fmt.Sprintf("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      %s\nCHANNELID    0x%X\n", Port, Driver, Port)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--foreground", "--debug", "--apdu", "--config", conf)
	// pcscd dies with the test binary even when a test timeout kills it
	// before the cleanups run (the next test would find the reader taken).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting pcscd: %w", err)
	}
	d := &Daemon{cmd: cmd, done: make(chan struct{}), log: &lockedBuffer{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		once := false
		for sc.Scan() {
			d.log.WriteLine(sc.Text())
			if !once && strings.Contains(sc.Text(), "daemon ready") {
				once = true
				close(ready)
			}
		}
		_ = cmd.Wait()
		close(d.done)
	}()
	select {
	case <-ready:
		if err := waitReader(d); err != nil {
			_ = d.Stop()
			return nil, err
		}
		return d, nil
	case <-d.done:
		return nil, fmt.Errorf("pcscd exited before it was ready (another pcscd running? not root and /run/pcscd not writable?); its output:\n%s", d.Log())
	case <-time.After(10 * time.Second):
		_ = d.Stop()
		return nil, fmt.Errorf("pcscd did not report ready within 10s; its output:\n%s", d.Log())
	}
}

// Stop ends the daemon (SIGTERM, then SIGKILL after 5s) and waits for it.
func (d *Daemon) Stop() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		return errors.New("pcscd did not stop on SIGTERM within 5s; killed")
	}
}

// lockMachine takes the machine-wide PC/SC test lock, waiting up to wait.
func lockMachine(wait time.Duration) (func(), error) {
	path := filepath.Join(os.TempDir(), "gantry-pcsctest.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another test run on this machine has held the PC/SC reader (%s) for %s: %v", path, wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
