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

// Appends that share a transaction stay independent: in each round, 24
// writers append to streams of their own (all must succeed) while 8 race to
// create one shared stream (exactly one wins, the others get a typed
// conflict), and a re-sent command returns its first result. With several
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
	for round := range 10 {
		shared := fmt.Sprintf("shared-%d", round)
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			wins, conflicts int
			own, duplicates int
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
					own++
				}
			}()
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 || own != 20 || duplicates != 3 {
			t.Fatalf("round %d: wins %d conflicts %d own %d duplicates %d", round, wins, conflicts, own, duplicates)
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
	if want := 10 * (1 + 1 + 20*2); n != want {
		t.Fatalf("%d events stored, want %d", n, want)
	}
	r, err := postgres.Verify(ctx, pool)
	if err != nil || !r.Intact {
		t.Fatalf("verify: %+v %v", r, err)
	}
}
