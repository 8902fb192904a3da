package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Role of an authenticated caller.
type Role string

const (
	RoleCustomer      Role = "customer"
	RoleStaff         Role = "store_staff"
	RoleStoreAdmin    Role = "store_admin"
	RoleFinance       Role = "finance"
	RoleAuditor       Role = "auditor"
	RoleRegulator     Role = "regulator"
	RoleOperatorAdmin Role = "operator_admin"
)

// Principal is who is calling. Store is set for store staff and admins (they
// act only on their store's data); Application for a customer (they act only
// on their own application).
type Principal struct {
	Role        Role      `json:"role"`
	Subject     string    `json:"sub"` // staff ID, user ID, application ID
	Store       string    `json:"store,omitempty"`
	Application string    `json:"app,omitempty"`
	Expires     time.Time `json:"exp"`
	// TokenID (jti) names the token for revocation (logout); IssuedAt
	// (iat) is compared with the subject's not-before time. Issue sets both.
	TokenID  string    `json:"jti,omitempty"`
	IssuedAt time.Time `json:"iat,omitzero"`
}

// Tokens issues and checks bearer tokens: base64url(JSON claims) "." base64url(HMAC-SHA256).
// Login methods (password, staff IC card + face) all end in Issue, so another
// method plugs in without touching the rest.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	// verified remembers the claims of tokens whose signature checked
	// out, by the whole token: a client sends the same token many times,
	// and decoding it is most of a read's work outside the database.
	// Expiry is checked on every use; revocation is not this cache's job.
	mu       sync.RWMutex
	verified map[string]Principal
}

// verifiedLimit bounds the verified-token cache; when full it starts over.
const verifiedLimit = 10_000

// NewTokens returns Tokens signing with key; tokens live for ttl.
func NewTokens(key []byte, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{key: key, ttl: ttl, now: now, verified: map[string]Principal{}}
}

// Issue returns a token for p (its Expires is set from the TTL).
func (t *Tokens) Issue(p Principal) string {
	now := t.now().UTC()
	p.Expires = now.Add(t.ttl).Truncate(time.Second)
	p.IssuedAt = now
	var id [16]byte
	_, _ = rand.Read(id[:])
	p.TokenID = base64.RawURLEncoding.EncodeToString(id[:])
	body, _ := json.Marshal(p)
	enc := base64.RawURLEncoding.EncodeToString(body)
	return enc + "." + base64.RawURLEncoding.EncodeToString(t.sign(enc))
}

func (t *Tokens) sign(s string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

var errBadToken = errors.New("invalid or expired token")

// Verify returns the principal of a valid, unexpired token.
func (t *Tokens) Verify(tok string) (Principal, error) {
	t.mu.RLock()
	p, ok := t.verified[tok]
	t.mu.RUnlock()
	if !ok {
		var err error
		if p, err = t.verify(tok); err != nil {
			return Principal{}, err
		}
		t.mu.Lock()
		if len(t.verified) >= verifiedLimit {
			clear(t.verified)
		}
		t.verified[tok] = p
		t.mu.Unlock()
	}
	if !t.now().Before(p.Expires) {
		return Principal{}, errBadToken
	}
	return p, nil
}

// verify checks tok's signature and decodes its claims (expiry aside).
func (t *Tokens) verify(tok string) (Principal, error) {
	body, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Principal{}, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.sign(body)) {
		return Principal{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Principal{}, errBadToken
	}
	var p Principal
	if err := json.Unmarshal(raw, &p); err != nil {
		return Principal{}, errBadToken
	}
	return p, nil
}

const principalKey = "gantry.principal"

// PrincipalOf returns the authenticated caller (zero for a public route).
func PrincipalOf(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

func (s *Server) authenticate(roles []Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return &ProblemError{Problem{Status: 401, Code: "unauthenticated", Detail: "Send a bearer token (Authorization: Bearer …) from a login endpoint."}}
			}
			p, err := s.tokens.Verify(tok)
			if err != nil {
				return &ProblemError{Problem{Status: 401, Code: "unauthenticated", Detail: "The token is invalid or has expired; log in again."}}
			}
			if err := s.checkRevoked(c, p); err != nil {
				return err
			}
			if !slices.Contains(roles, p.Role) {
				return &ProblemError{Problem{Status: 403, Code: "forbidden_role", Detail: "Your role (" + string(p.Role) + ") may not do this."}}
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}
