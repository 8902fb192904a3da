package edi_test

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/gantry-etc/gantry/adapters/edi"
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
