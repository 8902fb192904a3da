package edi_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/domain/billing"
)

func TestParseUsage(t *testing.T) {
	utf, err := os.ReadFile("../../test/testdata/usage-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes(utf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, enc string
		data      []byte
	}{{"utf8_sample", "UTF-8", utf}, {"shift_jis_sample", "Shift_JIS", sjis}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := edi.ParseUsage(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if f.Encoding != tc.enc || len(f.Records) != 2 || f.Records[0].EntryIC() != "東京" || f.Records[0].Vehicle().String() != "品川 300 あ 12-34" {
				t.Fatalf("%+v", f)
			}
		})
	}
	_, err = edi.ParseUsage([]byte("record_id,operator\n"))
	var fe *edi.FileError
	if !errors.As(err, &fe) || fe.Problems[0].Field != "header" {
		t.Fatalf("bad header: %v", err)
	}
}

// The streaming reader hands over chunks, lists every bad line (capped,
// with a count of the rest), reads quoted fields across lines, and decides
// the encoding at the first line beyond ASCII.
func TestReadUsageStreams(t *testing.T) {
	good := func(id string) string {
		return id + ",NEXCO-E,9123400000000013,品川 300 あ 12-34,東京,2026-11-04 08:00:00,厚木,2026-11-04 08:40:00,1000\n"
	}
	var b strings.Builder
	b.WriteString(edi.UsageHeader + "\r\n")
	for i := range 25 {
		b.WriteString(good(fmt.Sprintf("R-%d", i)))
	}
	b.WriteString("\"R-q\",NEXCO-E,9123400000000013,\"品川 300 あ\n12-34\",東京,2026-11-04 08:00:00,厚木,2026-11-04 08:40:00,1000\n")
	var chunks []int
	read, err := edi.ReadUsage(strings.NewReader(b.String()), 10, func(c []billing.UsageRecord) error { chunks = append(chunks, len(c)); return nil })
	if err != nil || read.Rows != 26 || !slices.Equal(chunks, []int{10, 10, 6}) || read.Encoding != "UTF-8" {
		t.Fatalf("good file: %+v %v, chunks %v", read, err, chunks)
	}

	b.Reset()
	b.WriteString(edi.UsageHeader + "\n" + good("R-1"))
	b.WriteString("R-2,NEXCO-E,9123400000000013,品川,東京,2026-13-04 08:00:00,厚木,2026-11-04 08:40:00,x\n")
	for range edi.MaxProblems + 5 {
		b.WriteString("R-3,too,few\n")
	}
	b.WriteString(good("R-4"))
	calls := 0
	_, err = edi.ReadUsage(strings.NewReader(b.String()), 1, func([]billing.UsageRecord) error { calls++; return nil })
	var fe *edi.FileError
	if !errors.As(err, &fe) || len(fe.Problems) != edi.MaxProblems+1 || fe.Problems[0].Line != 3 || fe.Problems[0].Field != "entry_at" || fe.Problems[1].Field != "toll" {
		t.Fatalf("bad file: %v", err)
	}
	if last := fe.Problems[edi.MaxProblems]; last.Field != "file" || !strings.Contains(last.Reason, "7 more problems") {
		t.Fatalf("last problem %+v, want the count of the rest (7)", last)
	}
	if calls != 1 {
		t.Fatalf("%d chunks handed over; want only the one before the first bad line", calls)
	}

	sjis, _ := japanese.ShiftJIS.NewEncoder().String(edi.UsageHeader + "\n" + good("R-1"))
	mixed := sjis + good("R-2") // a UTF-8 line in a Shift_JIS file
	_, err = edi.ReadUsage(strings.NewReader(mixed), 0, nil)
	if !errors.As(err, &fe) || len(fe.Problems) != 1 || fe.Problems[0].Line != 3 || fe.Problems[0].Field != "encoding" {
		t.Fatalf("mixed encodings: %v", err)
	}
}
