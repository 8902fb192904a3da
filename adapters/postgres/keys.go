package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
)

// KeyTable implements eventstore.KeyTable on the subject_keys table.
type KeyTable struct{ pool *pgxpool.Pool }

// NewKeyTable returns a KeyTable on pool.
func NewKeyTable(pool *pgxpool.Pool) *KeyTable { return &KeyTable{pool: pool} }

func (k *KeyTable) Put(ctx context.Context, subject string, wrapped []byte) ([]byte, error) {
	if _, err := k.pool.Exec(ctx, `INSERT INTO subject_keys (subject, wrapped_key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, subject, wrapped); err != nil {
		return nil, translate(err)
	}
	return k.Get(ctx, subject)
}

func (k *KeyTable) Get(ctx context.Context, subject string) ([]byte, error) {
	var w []byte
	err := k.pool.QueryRow(ctx, `SELECT wrapped_key FROM subject_keys WHERE subject = $1`, subject).Scan(&w)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, es.ErrNoKey
	}
	if err != nil {
		return nil, translate(err)
	}
	if w == nil {
		return nil, es.ErrShredded
	}
	return w, nil
}

func (k *KeyTable) Destroy(ctx context.Context, subject string) error {
	_, err := k.pool.Exec(ctx, `INSERT INTO subject_keys (subject, wrapped_key, shredded_at) VALUES ($1, NULL, now())
ON CONFLICT (subject) DO UPDATE SET wrapped_key = NULL, shredded_at = coalesce(subject_keys.shredded_at, now())`, subject)
	return translate(err)
}

// GetMany implements eventstore.KeyBatch: one read for a page of subjects.
func (k *KeyTable) GetMany(ctx context.Context, subjects []string) (map[string][]byte, error) {
	rows, err := k.pool.Query(ctx, `SELECT subject, wrapped_key FROM subject_keys WHERE subject = ANY($1)`, subjects)
	if err != nil {
		return nil, translate(err)
	}
	out := map[string][]byte{}
	for rows.Next() {
		var s string
		var w []byte
		if err := rows.Scan(&s, &w); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		out[s] = w
	}
	rows.Close()
	return out, translate(rows.Err())
}
