package projections

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// lostDatabase reports whether err says the database could not be reached
// or dropped the connection (refused, reset, closed, shutting down or
// starting up, too many connections), as opposed to a batch that cannot be
// applied. Such a failure never counts against an event: the runner resumes
// from its checkpoint until the database is back, so a PostgreSQL restart
// cannot stop a projector for good.
func lostDatabase(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, es.ErrUnavailable) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014": // query_canceled (a statement timeout): the batch's own doing
			return false
		case len(pgErr.Code) >= 2 && (pgErr.Code[:2] == "08" || pgErr.Code[:2] == "57" || pgErr.Code[:2] == "53"):
			// connection exception, operator intervention (shutdown,
			// terminated backend, cannot connect now), insufficient resources
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
