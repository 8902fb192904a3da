package postgres

import "context"

// HasActiveCard tells whether the staff member has an enrolled, unrevoked
// staff IC card (migration 04000): accounts.CardHolders.
func (s StaffAccounts) HasActiveCard(ctx context.Context, staffID string) (bool, error) {
	var has bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM station_staff_cards WHERE staff_id = $1 AND revoked_at IS NULL)`, staffID).Scan(&has)
	return has, err
}
