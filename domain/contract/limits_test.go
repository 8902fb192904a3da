package contract_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/contract"
)

// Contract contact data reaches events: its free text is bounded.
func TestContactAndHolderLengths(t *testing.T) {
	if _, err := contract.NewContact(strings.Repeat("東", 201), "03-1234-5678", "山田"); !errors.Is(err, domain.ErrTooLong) {
		t.Fatalf("201-character address: %v", err)
	}
	if _, err := contract.NewContact("東京都", "03-1234-5678", strings.Repeat("山", 101)); !errors.Is(err, domain.ErrTooLong) {
		t.Fatalf("101-character representative: %v", err)
	}
	if _, err := contract.NewBankAccount("0001", "001", contract.AccountOrdinary, "1234567", strings.Repeat("ア", 101)); !errors.Is(err, domain.ErrTooLong) {
		t.Fatalf("101-character holder: %v", err)
	}
	if _, err := contract.NewContact(strings.Repeat("東", 200), "03-1234-5678", "山田"); err != nil {
		t.Fatalf("200-character address refused: %v", err)
	}
}
