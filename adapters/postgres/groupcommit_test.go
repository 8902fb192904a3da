package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gantry-etc/gantry/adapters/postgres"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// Appends that share a transaction stay independent: in each round, 12
// writers append to streams of their own (all must succeed) while 8 race to
// create one shared stream (exactly one wins, the others get a typed
// conflict), 4 send the same command at once and 4 re-send a command that
// committed before the round (each gets the first result), and 4 append
// with a stale expected version (a typed conflict with the actual version,
// nothing written). The appends of a round share batches (one
// gantry_append_batch statement each), so conflicts and duplicates are
// answered inside a batch without disturbing its neighbours. With several
// transactions in flight, racing batches also meet unique violations, which
// roll a batch back and send its appends one by one.
func TestGroupCommitKeepsAppendsIndependent(t *testing.T) {
	for _, inFlight := range []int{1, 4} {
		t.Run(fmt.Sprintf("in-flight=%d", inFlight), func(t *testing.T) { groupCommitRounds(t, inFlight) })
	}
}

func groupCommitRounds(t *testing.T, inFlight int) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool, wallClock{}, postgres.WithGroupCommit(inFlight, 64))
	ev := func() es.EventData {
		return es.EventData{ID: uuid.Must(uuid.NewV7()), Type: "test.happened", SchemaVersion: 1, Data: []byte(`{"n":1}`)}
	}
	ownTx := map[string]bool{}
	for round := range 10 {
		shared := fmt.Sprintf("shared-%d", round)
		pre := fmt.Sprintf("pre-%d", round)
		preCmd, err := store.Append(ctx, pre, es.NoStream, es.Metadata{CommandID: "pre-" + pre}, ev())
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			wins, conflicts int
			own, duplicates int
			stale, resent   int
			positions       = map[es.Position]bool{}
			firstOfCommand  es.AppendResult
			commandOutcomes []es.AppendResult
		)
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch {
				case w < 8:
					_, err := store.Append(ctx, shared, es.NoStream, es.Metadata{}, ev())
					var wv *es.WrongVersionError
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case errors.As(err, &wv) && wv.Actual == 1:
						conflicts++
					default:
						t.Errorf("shared stream: %v", err)
					}
				case w < 12:
					// The same command four times at once.
					res, err := store.Append(ctx, fmt.Sprintf("cmd-%d", round), es.Any, es.Metadata{CommandID: fmt.Sprintf("c-%d", round)}, ev())
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("command: %v", err)
						return
					}
					commandOutcomes = append(commandOutcomes, res)
					if res.Duplicate {
						duplicates++
					} else {
						firstOfCommand = res
					}
				case w < 16:
					// pre has one event; expecting 5 is stale.
					_, err := store.Append(ctx, pre+fmt.Sprint("-", w), es.ExpectedVersion(5), es.Metadata{}, ev())
					var wv *es.WrongVersionError
					mu.Lock()
					defer mu.Unlock()
					if !errors.As(err, &wv) || wv.Actual != 0 || wv.Expected != 5 {
						t.Errorf("stale append: %v", err)
						return
					}
					stale++
				case w < 20:
					res, err := store.Append(ctx, pre, es.ExpectedVersion(0), es.Metadata{CommandID: "pre-" + pre}, ev())
					mu.Lock()
					defer mu.Unlock()
					if err != nil || !res.Duplicate || res.Position != preCmd.Position || res.LastVersion != 1 {
						t.Errorf("re-sent command: %+v %v, first %+v", res, err, preCmd)
						return
					}
					resent++
				default:
					res, err := store.Append(ctx, fmt.Sprintf("own-%d-%d", round, w), es.NoStream, es.Metadata{}, ev(), ev())
					mu.Lock()
					defer mu.Unlock()
					if err != nil || res.FirstVersion != 1 || res.LastVersion != 2 {
						t.Errorf("own stream: %+v %v", res, err)
						return
					}
					if positions[res.Position] {
						t.Errorf("position %v given twice", res.Position)
					}
					positions[res.Position] = true
					ownTx[fmt.Sprint(res.Position.Commit)] = true
					own++
				}
			}()
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 || own != 12 || duplicates != 3 || stale != 4 || resent != 4 {
			t.Fatalf("round %d: wins %d conflicts %d own %d duplicates %d stale %d re-sent %d", round, wins, conflicts, own, duplicates, stale, resent)
		}
		for _, r := range commandOutcomes {
			if r.FirstVersion != firstOfCommand.FirstVersion || r.Position != firstOfCommand.Position {
				t.Fatalf("round %d: re-sent command got %+v, first was %+v", round, r, firstOfCommand)
			}
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if len(ownTx) >= 10*12 {
		t.Fatalf("120 appends to own streams took %d transactions: no batch was shared", len(ownTx))
	}
	if want := 10 * (1 + 1 + 1 + 12*2); n != want {
		t.Fatalf("%d events stored, want %d", n, want)
	}
	r, err := postgres.Verify(ctx, pool)
	if err != nil || !r.Intact {
		t.Fatalf("verify: %+v %v", r, err)
	}
}
