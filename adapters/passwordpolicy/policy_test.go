package passwordpolicy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/adapters/passwordpolicy"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, password string
		related        []string
		ok             bool
	}{
		{"long_random_phrase", "correct horse battery", nil, true},
		{"twelve_mixed", "pass-st-A-long", nil, true},
		{"eleven_characters", "Xk3!pQ9#mZ2", nil, false},
		{"common_password_repeated", "passwordpassword", nil, false},
		{"digits_run", "123456789012", nil, false},
		{"keyboard_walk", "qwertyuiopas", nil, false},
		{"common_word_and_digits", "iloveyou1234", nil, false},
		{"built_on_the_staff_id", "tanaka.hiroshi1", []string{"tanaka.hiroshi"}, false},
		{"over_72_bytes", strings.Repeat("zq7!", 19), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := passwordpolicy.Check(tt.password, tt.related...)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, passwordpolicy.ErrWeakPassword)) {
				t.Fatalf("Check(%q) = %v, want ok=%v", tt.password, err, tt.ok)
			}
		})
	}
}
