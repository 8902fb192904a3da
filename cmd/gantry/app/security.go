package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gantry-etc/gantry/api"
)

// Security is the configuration of the public endpoints' defences (README,
// "Security and privacy").
type Security struct {
	// OpsAddr is where /metrics and the detailed /readyz and /healthz
	// listen (GANTRY_OPS_ADDR, default 127.0.0.1:9090; "off": nowhere).
	OpsAddr string
	// CodeKey computes certificate verification codes (GANTRY_CODE_KEY);
	// unset, it is derived from the token key as before, so the codes of
	// certificates already issued stay valid.
	CodeKey []byte
	// SecretKey is the HMAC key of the hashes of machine-drawn secrets
	// (application passcodes; GANTRY_SECRET_KEY); unset, it is derived
	// from the KEK. Changing it invalidates the passcodes of open
	// applications (their customers must be sent new ones).
	SecretKey []byte
	// TrustedProxies may set X-Forwarded-For (GANTRY_TRUSTED_PROXIES,
	// comma-separated addresses or CIDR ranges; default none).
	TrustedProxies []*net.IPNet
	// Limits are the rate limits (GANTRY_RATE_LIMITS over api.DefaultLimits).
	Limits map[string]api.Rates
	// Server timeouts (GANTRY_HTTP_READ_TIMEOUT, …_READ_HEADER_TIMEOUT,
	// …_WRITE_TIMEOUT, …_IDLE_TIMEOUT); zero: the defaults below.
	ReadTimeout, ReadHeaderTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Default server timeouts. ReadTimeout bounds the whole request, body
// included (the largest body, a usage file, is a few MB: 30 s is 1 Mbit/s
// for 4 MB); WriteTimeout covers the handler and the answer, so it must fit
// the slowest answers (a billing run, invoice and certificate PDFs).
const (
	DefaultReadTimeout       = 30 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	// MaxHeaderBytes: 32 KiB of request headers (Go's default is 1 MiB).
	MaxHeaderBytes = 32 << 10
)

func (s *Security) fromEnv() error {
	s.OpsAddr = env("GANTRY_OPS_ADDR", "127.0.0.1:9090")
	if os.Getenv("GANTRY_CODE_KEY") != "" {
		k, err := key("GANTRY_CODE_KEY")
		if err != nil {
			return err
		}
		s.CodeKey = k
	}
	if os.Getenv("GANTRY_SECRET_KEY") != "" {
		k, err := key("GANTRY_SECRET_KEY")
		if err != nil {
			return err
		}
		s.SecretKey = k
	}
	var err error
	if s.TrustedProxies, err = api.ParseTrustedProxies(os.Getenv("GANTRY_TRUSTED_PROXIES")); err != nil {
		return err
	}
	if s.Limits, err = api.ParseLimits(os.Getenv("GANTRY_RATE_LIMITS")); err != nil {
		return fmt.Errorf("GANTRY_RATE_LIMITS: %w", err)
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"GANTRY_HTTP_READ_TIMEOUT", &s.ReadTimeout}, {"GANTRY_HTTP_READ_HEADER_TIMEOUT", &s.ReadHeaderTimeout},
		{"GANTRY_HTTP_WRITE_TIMEOUT", &s.WriteTimeout}, {"GANTRY_HTTP_IDLE_TIMEOUT", &s.IdleTimeout}} {
		if v := os.Getenv(d.name); v != "" {
			if *d.to, err = time.ParseDuration(v); err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
		}
	}
	return nil
}

// codeKey is the certificate verification key: GANTRY_CODE_KEY, or the
// legacy derivation from the token key (HMAC-SHA256 of a fixed label), which
// keeps the codes already printed on certificates valid. Rotating the token
// key changes the derived one: set GANTRY_CODE_KEY to keep the codes apart.
func (c Config) codeKey() []byte {
	if len(c.Security.CodeKey) > 0 {
		return c.Security.CodeKey
	}
	m := hmac.New(sha256.New, c.TokenKey)
	m.Write([]byte("gantry certificate verification v1"))
	return m.Sum(nil)
}

// secretKey is the key of keyed passcode hashes: GANTRY_SECRET_KEY, or
// HMAC-SHA256 of a fixed label under the KEK.
func (c Config) secretKey() []byte {
	if len(c.Security.SecretKey) > 0 {
		return c.Security.SecretKey
	}
	m := hmac.New(sha256.New, c.KEK)
	m.Write([]byte("gantry secret hash v1"))
	return m.Sum(nil)
}

// HTTPServer is the public API server with its timeouts and header limit
// (main serves it; tests start it with httptest.NewUnstartedServer).
func (a *App) HTTPServer() *http.Server {
	s := a.Config.Security
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           a.API.Echo(),
		ReadTimeout:       or(s.ReadTimeout, DefaultReadTimeout),
		ReadHeaderTimeout: or(s.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		WriteTimeout:      or(s.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       or(s.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// OpsServer serves the ops endpoints (metrics, detailed health).
func (a *App) OpsServer() *http.Server {
	return &http.Server{Handler: a.API.OpsHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
}
