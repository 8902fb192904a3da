package app

import (
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Config is read from the environment once, in main; nothing below cmd/
// reads the environment.
type Config struct {
	DatabaseURL string        // DATABASE_URL (default: the project-local cluster)
	HTTPAddr    string        // GANTRY_HTTP_ADDR (default 127.0.0.1:8080)
	PublicURL   string        // GANTRY_PUBLIC_URL: base of links in mails (default http://<HTTPAddr>)
	KEK         []byte        // GANTRY_KEK: base64 32-byte key-encryption key for personal data
	TokenKey    []byte        // GANTRY_TOKEN_KEY: base64 key signing API tokens
	TokenTTL    time.Duration // GANTRY_TOKEN_TTL (default 12h)
	Bus         string        // GANTRY_BUS: sql (default) or nats
	NATSURL     string        // GANTRY_NATS_URL (default nats://127.0.0.1:4222)
	SMTPAddr    string        // GANTRY_SMTP_ADDR host:port (default 127.0.0.1:2525)
	MailFrom    string        // GANTRY_MAIL_FROM (default noreply@gantry.example)
	EDIDir      string        // GANTRY_EDI_DIR: where printer EDI batch files go (default .local/edi)
	PollEvery   time.Duration // GANTRY_POLL: how often subscribers look for other processes' events (default 50ms)
	Replicas    bool          // GANTRY_REPLICAS=on: several processes share the database; each projector (and the outbox) runs in one of them at a time
	JobEvery    time.Duration // GANTRY_JOB_EVERY: scheduler period (default 1m)
	// BusRetry is how long after a failed delivery (a mail the SMTP server
	// did not take) it is tried again, doubling each time up to BusRetryMax.
	BusRetry    time.Duration // GANTRY_BUS_RETRY (default 500ms)
	BusRetryMax time.Duration // GANTRY_BUS_RETRY_MAX (default 1m)
	Extra       map[string]string
	Security    Security // public-endpoint defences (security.go)
}

// DefaultDatabaseURL is the project-local cluster of scripts/pg.sh.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:54329/gantry?sslmode=disable"

// FromEnv reads Config from the environment.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL: env("DATABASE_URL", DefaultDatabaseURL),
		HTTPAddr:    env("GANTRY_HTTP_ADDR", "127.0.0.1:8080"),
		Bus:         env("GANTRY_BUS", "sql"),
		NATSURL:     env("GANTRY_NATS_URL", "nats://127.0.0.1:4222"),
		SMTPAddr:    env("GANTRY_SMTP_ADDR", "127.0.0.1:2525"),
		MailFrom:    env("GANTRY_MAIL_FROM", "noreply@gantry.example"),
		EDIDir:      env("GANTRY_EDI_DIR", ".local/edi"),
		Extra:       map[string]string{},
	}
	c.PublicURL = env("GANTRY_PUBLIC_URL", "http://"+c.HTTPAddr)
	var err error
	if c.TokenTTL, err = time.ParseDuration(env("GANTRY_TOKEN_TTL", "12h")); err != nil {
		return c, fmt.Errorf("GANTRY_TOKEN_TTL: %w", err)
	}
	c.Replicas = env("GANTRY_REPLICAS", "off") == "on"
	if c.PollEvery, err = time.ParseDuration(env("GANTRY_POLL", "50ms")); err != nil {
		return c, fmt.Errorf("GANTRY_POLL: %w", err)
	}
	if c.JobEvery, err = time.ParseDuration(env("GANTRY_JOB_EVERY", "1m")); err != nil {
		return c, fmt.Errorf("GANTRY_JOB_EVERY: %w", err)
	}
	if c.BusRetry, err = time.ParseDuration(env("GANTRY_BUS_RETRY", "500ms")); err != nil {
		return c, fmt.Errorf("GANTRY_BUS_RETRY: %w", err)
	}
	if c.BusRetryMax, err = time.ParseDuration(env("GANTRY_BUS_RETRY_MAX", "1m")); err != nil {
		return c, fmt.Errorf("GANTRY_BUS_RETRY_MAX: %w", err)
	}
	if c.KEK, err = key("GANTRY_KEK"); err != nil {
		return c, err
	}
	if c.TokenKey, err = key("GANTRY_TOKEN_KEY"); err != nil {
		return c, err
	}
	if err := c.Security.fromEnv(); err != nil {
		return c, err
	}
	for _, k := range []string{"GANTRY_ISSUER_NAME", "GANTRY_ISSUER_REGISTRATION", "GANTRY_ANNUAL_FEE", "GANTRY_CARD_PREFIX", "GANTRY_LEASE_URL",
		"GANTRY_BOOTSTRAP_ADMIN", "GANTRY_CERT_FONT", "GANTRY_BCRYPT_COST", "GANTRY_RENEWAL_MAIL_TO",
		"GANTRY_LOG_KEY", "GANTRY_CHECKPOINT_DIR",
		"GANTRY_FACE", "GANTRY_FACE_URL", "GANTRY_FACE_TIMEOUT", "GANTRY_SETUP_CARD_KEY", "GANTRY_JPKI_CA", "GANTRY_OCSP_URL", "GANTRY_OCSP_TIMEOUT", "GANTRY_CARD_CHALLENGE_TTL", "GANTRY_CARD_RATE", "GANTRY_CARD_BURST",
		"GANTRY_PG_IDLE_TX_TIMEOUT", "GANTRY_PG_STATEMENT_TIMEOUT"} {
		if v, ok := os.LookupEnv(k); ok {
			c.Extra[k] = v
		}
	}
	if _, ok := c.Extra["GANTRY_CHECKPOINT_DIR"]; !ok {
		c.Extra["GANTRY_CHECKPOINT_DIR"] = ".local/checkpoints"
	}
	return c, nil
}

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

func key(name string) ([]byte, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, fmt.Errorf("%s is not set: give a base64 32-byte key (make run creates a development key in .local/)", name)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%s must be 32 bytes in base64 (openssl rand -base64 32)", name)
	}
	return b, nil
}

// Int reads an integer from Extra with a default.
func (c Config) Int(key string, def int64) (int64, error) {
	v, ok := c.Extra[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

// Duration reads a duration from Extra with a default.
func (c Config) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := c.Extra[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: want a duration such as 30s (0 turns it off)", key)
	}
	return d, nil
}

// TestKeys fills KEK and TokenKey with fixed test keys (tests only).
func (c *Config) TestKeys() {
	c.KEK = []byte("0123456789abcdef0123456789abcdef")
	c.TokenKey = []byte("fedcba9876543210fedcba9876543210")
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	c.Extra["GANTRY_LOG_KEY"] = TestLogKey
	c.Security.CodeKey = []byte("0f1e2d3c4b5a69780f1e2d3c4b5a6978")
}
