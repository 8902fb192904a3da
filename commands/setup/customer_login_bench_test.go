package setup_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/adapters/postgres"
	"github.com/gantry-etc/gantry/commands"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/test/pgtest"
)

// BenchmarkCustomerLogin compares the cost of a login for an unknown
// application ID with one for an existing ID (issue 10: 1.3 ms against
// 94 ms used to tell them apart). bcrypt at the production cost (10).
//
//	go test ./commands/setup -run '^$' -bench CustomerLogin -benchtime 20x
func BenchmarkCustomerLogin(b *testing.B) {
	pool := pgtest.Pool(b)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	sealer, _ := es.NewSealer(kek, postgres.NewKeyTable(pool))
	reg := es.NewRegistry()
	es.Register[application.Completed](reg, 1)
	es.Register[application.PasscodeSealed](reg, 1)
	es.Register[application.PasscodeRejected](reg, 1)
	es.Register[application.ReceptionLocked](reg, 1)
	streams := commands.Streams{Store: postgres.NewStore(pool, commands.SystemClock{}), Codec: es.NewCodec(reg, sealer)}
	if err := postgres.Migrate(context.Background(), pool, nil); err != nil {
		b.Fatal(err)
	}
	h := cmds.Hasher{Cost: 10}
	ctx := commands.WithMetadata(context.Background(), es.Metadata{Actor: es.Actor{Role: "anonymous"}})
	app, err := cmds.ApplyHandler{Streams: streams, Clock: commands.SystemClock{}, Hasher: h}.Handle(ctx, cmds.Apply{
		Details:     application.Details{Applicant: application.Applicant{Name: "山田太郎", Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Email: "taro@example.jp"}, VehicleUser: "山田太郎"},
		Acceptances: application.AllAccepted(), Units: 1})
	if err != nil {
		b.Fatal(err)
	}
	login, err := cmds.NewCustomerLoginHandler(streams, commands.SystemClock{}, h)
	if err != nil {
		b.Fatal(err)
	}
	// The cases alternate within one loop, so drift in this shared
	// machine's speed hits them alike; each reports its mean.
	cases := []struct{ name, id, pass string }{
		{"unknown_id", "AP-NOSUCHAPP000", "ABCDEFGHJK"},
		{"existing_id_right_passcode", app.ApplicationID, app.Passcode},
		{"existing_id_wrong_passcode", app.ApplicationID, "WRONGWRONG"}, // locked after 5: the hash still runs
	}
	spent := make([]time.Duration, len(cases))
	n := 0
	for b.Loop() {
		for i, c := range cases {
			start := time.Now()
			_, _ = login.Handle(ctx, cmds.CustomerLogin{Credentials: cmds.Credentials{ApplicationID: c.id, Passcode: c.pass}})
			spent[i] += time.Since(start)
		}
		n++
	}
	for i, c := range cases {
		b.ReportMetric(float64(spent[i].Milliseconds())/float64(n), c.name+"-ms/login")
	}
	b.ReportMetric(float64(spent[0])/float64(spent[2]), "unknown/wrong-ratio")
}
